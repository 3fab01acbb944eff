import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/log';
import { openDatabase } from '../../../storage/db';
import { RecordingsRepo, type NewRecording } from '../../../storage/repos/recordings';
import { RecordPlanRepo } from '../../../storage/repos/record-plans';

function segment(path: string, startMs: number, durationMs: number, extra: Partial<NewRecording> = {}): NewRecording {
  return {
    path,
    format: 'flv',
    file: `${path}/${startMs}.flv`,
    startMs,
    endMs: startMs + durationMs,
    bytes: 1000,
    videoCodec: 'h264',
    width: 640,
    height: 360,
    audioCodec: 'aac',
    keyframes: 10,
    status: 'complete',
    planId: null,
    reason: 'plan',
    ...extra,
  };
}

test('recordings: overlap queries, paging, count, days, progress and the retention lists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-rec-'));
  try {
    const db = openDatabase(dir, silentLogger());
    const repo = new RecordingsRepo(db);
    const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
    for (let i = 0; i < 120; i++) repo.insert(segment('live/cam1', t0 + i * 60_000, 60_000));
    repo.insert(segment('live/cam2', t0, 60_000));
    const long = repo.insert(segment('live/cam1', t0 - 3_600_000, 3_590_000, { file: 'live/cam1/long.flv', reason: 'download', format: 'ts' }));
    // [00:10:30, 00:12:00) overlaps the segments starting 00:10, 00:11 and nothing else.
    const rows = repo.find({ path: 'live/cam1', startMs: t0 + 630_000, endMs: t0 + 720_000 });
    assert.deepEqual(
      rows.map((r) => r.startMs),
      [t0 + 600_000, t0 + 660_000],
    );
    assert.equal(rows[0]!.durationMs, 60_000);
    // The long segment ends 10 s before t0: a query at t0 - 5 s finds it through the span bound.
    assert.deepEqual(
      repo.find({ path: 'live/cam1', startMs: t0 - 20_000, endMs: t0 + 1 }).map((r) => r.id),
      [long, repo.find({ path: 'live/cam1', startMs: t0, endMs: t0 + 1 })[0]!.id],
    );
    assert.equal(repo.find({ path: 'live/cam1', startMs: t0 - 20_000, endMs: t0 + 1, format: 'ts' }).length, 1);
    assert.equal(repo.count({ path: 'live/cam1', startMs: t0, endMs: t0 + 3_600_000 }), 60);
    assert.deepEqual(
      repo.find({ path: 'live/cam1', startMs: t0, endMs: t0 + 3_600_000, limit: 5, offset: 10 }).map((r) => r.startMs),
      [10, 11, 12, 13, 14].map((i) => t0 + i * 60_000),
    );
    assert.deepEqual(repo.days('live/cam1', Date.UTC(2025, 11, 1), Date.UTC(2026, 1, 1), 'UTC'), ['2025-12-31', '2026-01-01']);
    assert.deepEqual(repo.days('live/cam1', Date.UTC(2025, 11, 1), Date.UTC(2026, 1, 1), 'America/New_York'), ['2025-12-31']);

    const open = repo.insert(segment('live/cam3', t0, 0, { status: 'recording', file: 'live/cam3/a.flv' }));
    assert.deepEqual(
      repo.open().map((r) => r.id),
      [open],
    );
    repo.progress(open, { endMs: t0 + 5000, bytes: 4242, keyframes: 3, status: 'recovered' });
    assert.equal(repo.get(open)!.status, 'recovered');
    assert.equal(repo.get(open)!.bytes, 4242);
    assert.equal(repo.byFile('live/cam3/a.flv')!.id, open);
    assert.equal(repo.oldest(1)[0]!.id, long);
    assert.equal(repo.startedBefore(t0, 10).length, 0, 'the one segment before t0 is a download: it ages by when it was written');
    assert.deepEqual(
      repo.downloadedBefore(Date.now() + 1000, 10).map((r) => r.id),
      [long],
    );
    assert.equal(repo.downloadedBefore(Date.now() - 60_000, 10).length, 0);
    assert.equal(repo.totalBytes(), 122 * 1000 + 4242);
    repo.setStatus(open, 'missing');
    assert.equal(repo.totalBytes(), 122 * 1000);
    assert.ok(repo.delete(open));
    assert.equal(repo.get(open), undefined);
    assert.throws(() => repo.insert(segment('live/cam1', t0, 1)), /UNIQUE/, 'one row per file');
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM recordings WHERE path = 'x' AND start_ms >= 1 AND start_ms < 2 AND end_ms > 1`).all() as { detail: string }[];
    assert.match(plan.map((p) => p.detail).join(' '), /recordings_path_start/);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('record plans: save, update, list and delete survive a reopen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-rec-'));
  try {
    let db = openDatabase(dir, silentLogger());
    let repo = new RecordPlanRepo(db);
    const plan = {
      id: 'p1',
      enabled: true,
      streams: ['live/*'],
      formats: ['flv' as const],
      when: 'always' as const,
      weekly: '',
      cron: '',
      duration: 0,
      segmentSeconds: 0,
      deleteAfterDays: 7,
      preRoll: 0,
    };
    repo.save(plan, 1000);
    repo.save({ ...plan, enabled: false }, 2000);
    db.close();
    db = openDatabase(dir, silentLogger());
    repo = new RecordPlanRepo(db);
    assert.deepEqual(repo.list(), [{ plan: { ...plan, enabled: false }, createdAt: 1000, updatedAt: 2000 }]);
    assert.ok(repo.delete('p1'));
    assert.equal(repo.get('p1'), undefined);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recordings: the cached total (disk guard) stays equal to SUM(bytes) through inserts, progress, status changes and deletes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-rec-total-'));
  try {
    const db = openDatabase(join(dir, 'db'), silentLogger());
    const repo = new RecordingsRepo(db);
    const fresh = (): number => new RecordingsRepo(db).totalBytes(); // a new repo sums the table
    assert.equal(repo.totalBytes(), 0); // primes the cache before any write
    const ids: number[] = [];
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const statuses = ['recording', 'complete', 'recovered', 'missing'] as const;
    for (let step = 0; step < 400; step++) {
      const op = rand(4);
      const id = ids[rand(Math.max(ids.length, 1))];
      if (op === 0 || id === undefined) ids.push(repo.insert(segment('live/t', step * 1000, 1000, { bytes: rand(5000), status: statuses[rand(4)]! })));
      else if (op === 1) repo.progress(id, { endMs: step * 1000, bytes: rand(9000), keyframes: 1, status: rand(2) ? statuses[rand(4)]! : undefined });
      else if (op === 2) repo.setStatus(id, statuses[rand(4)]!);
      else {
        repo.delete(id);
        ids.splice(ids.indexOf(id), 1);
      }
      assert.equal(repo.totalBytes(), fresh(), `after step ${step} (op ${op})`);
    }
    assert.equal(repo.delete(999_999), false);
    assert.equal(repo.totalBytes(), fresh());
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
