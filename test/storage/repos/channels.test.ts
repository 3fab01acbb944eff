import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/log';
import { openDatabase } from '../../../storage/db';
import type { GbCatalogItem } from '../../../src/core/gb28181';
import { ChannelRepo } from '../../../storage/repos/channels';
import { DeviceRepo } from '../../../storage/repos/devices';

const DEV = '34020000001320000001';
const ch = (n: number, extra: Partial<GbCatalogItem> = {}): GbCatalogItem => ({
  id: `3402000000131000${String(n).padStart(4, '0')}`,
  kind: 'device',
  name: `通道${n}`,
  online: true,
  raw: { Name: `通道${n}` },
  ...extra,
});

test('channels: a complete catalog diffs (added, updated, gone), a partial one deletes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-repo-'));
  const db = openDatabase(dir, silentLogger());
  try {
    const devices = new DeviceRepo(db);
    const repo = new ChannelRepo(db, devices);
    devices.upsert(DEV, { online: true });
    const first = repo.applyCatalog(DEV, [ch(1), ch(2), ch(3), { id: '340200', kind: 'civil', name: '市', online: false, raw: {} }], true);
    assert.deepEqual({ ...first, removedIds: [] }, { added: 4, updated: 0, removed: 0, total: 4, removedIds: [] });
    assert.equal(devices.get(DEV)!.channelCount, 3);
    const partial = repo.applyCatalog(DEV, [ch(1, { name: '改名' })], false);
    assert.equal(partial.removed, 0);
    assert.equal(repo.get(DEV, ch(1).id)!.name, '改名');
    const second = repo.applyCatalog(DEV, [ch(1), ch(4)], true);
    assert.equal(second.added, 1);
    assert.equal(second.updated, 1);
    assert.deepEqual(second.removedIds.sort(), ['340200', ch(2).id, ch(3).id].sort());
    assert.equal(repo.get(DEV, ch(2).id)!.gone, true);
    assert.equal(repo.list({ deviceId: DEV }).total, 2);
    const back = repo.applyCatalog(DEV, [ch(1), ch(2), ch(4)], true);
    assert.equal(back.added, 1, 'a gone channel that comes back counts as added');
    assert.deepEqual(repo.get(DEV, ch(1).id)!.raw, { Name: '通道1' });
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('channels: events, search, online = channel and device online, cascade delete', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-repo-'));
  const db = openDatabase(dir, silentLogger());
  try {
    const devices = new DeviceRepo(db);
    const repo = new ChannelRepo(db, devices);
    devices.upsert(DEV, { online: true });
    devices.upsert('34020000001320000002', { online: false });
    repo.applyCatalog(DEV, [ch(1), ch(2)], true);
    repo.applyCatalog('34020000001320000002', [ch(9)], true);
    assert.equal(repo.applyEvent(DEV, 'OFF', [ch(1)]).updated, 1);
    assert.equal(repo.get(DEV, ch(1).id)!.online, false);
    assert.equal(repo.get(DEV, ch(1).id)!.status, 'OFF');
    repo.applyEvent(DEV, 'DEL', [ch(2)]);
    repo.applyEvent(DEV, 'ADD', [ch(5)]);
    assert.equal(repo.list({ online: true }).total, 1, 'only ch5: ch1 OFF, ch9 on an offline device');
    assert.equal(repo.list({ q: '通道9' }).items[0]!.deviceId, '34020000001320000002');
    devices.delete(DEV);
    assert.equal(repo.list({ deviceId: DEV, includeGone: true }).total, 0);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
