import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/log';
import { openDatabase } from '../../../storage/db';
import { DeviceRepo } from '../../../storage/repos/devices';

test('devices: create, update, search, page, online filter, survive a reopen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-repo-'));
  try {
    const db = openDatabase(dir, silentLogger());
    const repo = new DeviceRepo(db);
    assert.ok(repo.create('34020000001320000001', { name: '东门', password: 'p', provisioned: true, streamMode: 'udp' }, 1000));
    assert.equal(repo.create('34020000001320000001', {}), undefined, 'ids are unique');
    for (let i = 2; i <= 12; i++) repo.upsert(`340200000013200000${String(i).padStart(2, '0')}`, { online: i % 2 === 0, address: `10.0.0.${i}:5060`, transport: 'tcp' });
    const one = repo.get('34020000001320000001')!;
    assert.equal(one.name, '东门');
    assert.equal(one.streamMode, 'udp');
    assert.equal(one.charset, 'GB2312');
    assert.equal(one.noAuth, false);
    assert.equal(one.provisioned, true);
    assert.equal(repo.list().total, 12);
    assert.equal(repo.list({ online: true }).total, 6);
    assert.equal(repo.list({ q: '10.0.0.1' }).total, 3, '10.0.0.1x addresses');
    assert.equal(repo.list({ q: '东' }).items[0]!.id, '34020000001320000001');
    assert.equal(repo.list({ q: '%' }).total, 0, 'LIKE wildcards are escaped');
    const page = repo.list({ page: 2, count: 5 });
    assert.equal(page.items.length, 5);
    assert.equal(page.items[0]!.id, '34020000001320000006');
    repo.update('34020000001320000001', { password: null, noAuth: true, offlineReason: 'x' });
    assert.equal(repo.get('34020000001320000001')!.password, null);
    assert.equal(repo.get('34020000001320000001')!.noAuth, true);
    assert.equal(repo.listOnline().length, 6);
    db.close();
    const again = new DeviceRepo(openDatabase(dir, silentLogger()));
    assert.equal(again.get('34020000001320000001')!.offlineReason, 'x');
    assert.equal(again.delete('34020000001320000001'), true);
    assert.equal(again.get('34020000001320000001'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('devices: hot-path writes are queued, committed together, visible to every read, never thrown from the timer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-repo-'));
  const db = openDatabase(dir, silentLogger());
  try {
    const repo = new DeviceRepo(db);
    repo.upsert('34020000001320000001', { online: true, address: '10.0.0.1:5060' });
    repo.set('34020000001320000001', { keepaliveAt: 42 });
    assert.equal(repo.get('34020000001320000001')!.keepaliveAt, 42, 'a read commits the queue first');
    repo.set('34020000001320000001', { name: 'later' });
    db.prepare(`CREATE TRIGGER refuse BEFORE UPDATE OF firmware ON gb_devices BEGIN SELECT RAISE(ABORT, 'refused'); END`).run();
    repo.set('34020000001320000001', { firmware: 'x' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(repo.failedWrites, 1);
    assert.match(repo.lastWriteError ?? '', /refused/);
    assert.equal(repo.get('34020000001320000001')!.name, 'later', 'the other writes of the batch were kept');
    repo.set('34020000001320000001', { name: 'after close' });
    db.close();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
