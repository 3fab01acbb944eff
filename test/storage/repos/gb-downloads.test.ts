import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/log';
import { openDatabase } from '../../../storage/db';
import { DownloadRepo } from '../../../storage/repos/gb-downloads';

const INPUT = {
  deviceId: '34020000001320000001',
  channelId: '34020000001310000001',
  path: 'rtp/34020000001320000001_34020000001310000001_download',
  startMs: 1000,
  endMs: 25_000,
  speed: 4,
};

test('downloads: insert as starting, progress and state updates, newest first with filters, unfinished ones failed after a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-downloads-'));
  try {
    let db = openDatabase(dir, silentLogger());
    let repo = new DownloadRepo(db);
    const a = repo.insert(INPUT, 10);
    const b = repo.insert({ ...INPUT, deviceId: '34020000001320000002' }, 20);
    assert.equal(repo.get(a)?.state, 'starting');
    repo.update(a, { state: 'complete', mediaMs: 24_000, bytes: 123, recordingIds: [7, 8], fileSize: 99, endedAt: 30 });
    repo.update(b, { state: 'downloading', mediaAt: 21 });
    const done = repo.get(a)!;
    assert.deepEqual([done.state, done.mediaMs, done.bytes, done.recordingIds, done.fileSize, done.endedAt], ['complete', 24_000, 123, [7, 8], 99, 30]);
    assert.deepEqual(
      repo.find().items.map((d) => d.id),
      [b, a],
    );
    assert.deepEqual(
      repo.find({ state: 'complete' }).items.map((d) => d.id),
      [a],
    );
    assert.equal(repo.find({ deviceId: '34020000001320000002' }).total, 1);
    db.close();
    db = openDatabase(dir, silentLogger());
    repo = new DownloadRepo(db);
    assert.equal(repo.failUnfinished('the gateway stopped during the download', 40), 1);
    assert.deepEqual([repo.get(b)?.state, repo.get(b)?.error, repo.get(b)?.endedAt], ['failed', 'the gateway stopped during the download', 40]);
    assert.equal(repo.get(a)?.state, 'complete', 'finished ones keep their state');
    assert.equal(repo.remove(a), true);
    assert.equal(repo.get(a), undefined);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
