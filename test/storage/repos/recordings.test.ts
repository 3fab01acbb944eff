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
    assert.deepEqual(rows.map((r) => r.startMs), [t0 + 600_000, t0 + 660_000]);
    assert.equal(rows[0]!.durationMs, 60_000);
    // The long segment ends 10 s before t0: a query at t0 - 5 s finds it through the span bound.
    assert.deepEqual(repo.find({ path: 'live/cam1', startMs: t0 - 20_000, endMs: t0 + 1 }).map((r) => r.id), [long, repo.find({ path: 'live/cam1', startMs: t0, endMs: t0 + 1 })[0]!.id]);
    assert.equal(repo.find({ path: 'live/cam1', startMs: t0 - 20_000, endMs: t0 + 1, format: 'ts' }).length, 1);
    assert.equal(repo.count({ path: 'live/cam1', startMs: t0, endMs: t0 + 3_600_000 }), 60);
    assert.deepEqual(repo.find({ path: 'live/cam1', startMs: t0, endMs: t0 + 3_600_000, limit: 5, offset: 10 }).map((r) => r.startMs), [10, 11, 12, 13, 14].map((i) => t0 + i * 60_000));
    assert.deepEqual(repo.days('live/cam1', Date.UTC(2025, 11, 1), Date.UTC(2026, 1, 1), 'UTC'), ['2025-12-31', '2026-01-01']);
    assert.deepEqual(repo.days('live/cam1', Date.UTC(2025, 11, 1), Date.UTC(2026, 1, 1), 'America/New_York'), ['2025-12-31']);

    const open = repo.insert(segment('live/cam3', t0, 0, { status: 'recording', file: 'live/cam3/a.flv' }));
    assert.deepEqual(repo.open().map((r) => r.id), [open]);
    repo.progress(open, { endMs: t0 + 5000, bytes: 4242, keyframes: 3, status: 'recovered' });
    assert.equal(repo.get(open)!.status, 'recovered');
    assert.equal(repo.get(open)!.bytes, 4242);
    assert.equal(repo.byFile('live/cam3/a.flv')!.id, open);
    assert.equal(repo.oldest(1)[0]!.id, long);
    assert.equal(repo.startedBefore(t0, 10).length, 1);
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
    const plan = { id: 'p1', enabled: true, streams: ['live/*'], formats: ['flv' as const], when: 'always' as const, weekly: '', cron: '', duration: 0, segmentSeconds: 0, deleteAfterDays: 7, preRoll: 0 };
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
