import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { silentLogger } from '../../../src/core/log';
import { openDatabase } from '../../../storage/db';
import { RecordingsRepo } from '../../../storage/repos/recordings';
import { RecordingLayout } from '../../../storage/recording/layout';
import { SegmentStore } from '../../../storage/recording/segment-store';
import { Retention } from '../../../storage/recording/retention';

const DAY = 86_400_000;

function setup(options: { minFreeBytes?: number; maxBytes?: number; free?: () => number; days?: Record<string, number>; global?: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'gw-retention-'));
  const db = openDatabase(join(dir, 'db'), silentLogger());
  const repo = new RecordingsRepo(db);
  const layout = new RecordingLayout(join(dir, 'record'), 'UTC');
  const store = new SegmentStore({ layout, repo, flushMs: 1000, log: silentLogger(), onSegment: () => undefined });
  const global = options.global ?? 0;
  const retention = new Retention({
    store,
    repo,
    log: silentLogger(),
    daysFor: (planId) => (planId ? options.days?.[planId] : undefined) || global,
    shortestDays: () => {
      const all = [global, ...Object.values(options.days ?? {})].filter((d) => d > 0);
      return all.length ? Math.min(...all) : 0;
    },
    minFreeBytes: options.minFreeBytes ?? 0,
    maxBytes: options.maxBytes ?? 0,
    freeBytes: options.free,
  });
  const add = (startMs: number, planId: string | null, status: 'complete' | 'recording' = 'complete', bytes = 100): number => {
    const file = `live/cam/${startMs}.flv`;
    mkdirSync(dirname(layout.inside(file)), { recursive: true });
    writeFileSync(layout.inside(file), Buffer.alloc(bytes));
    return repo.insert({
      path: 'live/cam',
      format: 'flv',
      file,
      startMs,
      endMs: startMs + 60_000,
      bytes,
      videoCodec: 'h264',
      width: 1,
      height: 1,
      audioCodec: null,
      keyframes: 1,
      status,
      planId,
      reason: 'plan',
    });
  };
  return { dir, db, repo, layout, retention, add, close: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('retention: deleteAfterDays per plan and global on an injected clock; files and rows go together', () => {
  const now = Date.UTC(2026, 5, 1);
  const t = setup({ days: { short: 2 }, global: 10 });
  try {
    const oldShort = t.add(now - 3 * DAY, 'short');
    const youngShort = t.add(now - 1 * DAY, 'short');
    const oldGlobal = t.add(now - 11 * DAY, null);
    const midGlobal = t.add(now - 5 * DAY, 'other');
    const result = t.retention.sweep(now);
    assert.equal(result.expired, 2);
    assert.equal(t.repo.get(oldShort), undefined);
    assert.equal(t.repo.get(oldGlobal), undefined);
    assert.ok(t.repo.get(youngShort) && t.repo.get(midGlobal));
    assert.equal(existsSync(t.layout.inside(`live/cam/${now - 3 * DAY}.flv`)), false);
  } finally {
    t.close();
  }
});

test('retention: a downloaded device clip ages from when it was downloaded, not from its (device) start time', () => {
  const now = Date.UTC(2026, 5, 1);
  const t = setup({ days: { short: 2 }, global: 10 });
  try {
    const clip = (createdAt: number, name: string): number => {
      const file = `rtp/dl/${name}.flv`;
      mkdirSync(dirname(t.layout.inside(file)), { recursive: true });
      writeFileSync(t.layout.inside(file), Buffer.alloc(10));
      const row = { path: 'rtp/dl', format: 'flv' as const, file, startMs: now - 40 * DAY, endMs: now - 40 * DAY + 60_000, bytes: 10 };
      return t.repo.insert({ ...row, videoCodec: 'h264', width: 1, height: 1, audioCodec: null, keyframes: 1, status: 'complete', planId: null, reason: 'download' }, createdAt);
    };
    const fresh = clip(now - DAY, 'fresh');
    const stale = clip(now - 11 * DAY, 'stale');
    assert.equal(t.retention.sweep(now).expired, 1);
    assert.ok(t.repo.get(fresh), 'downloaded yesterday, of a clip 40 days old: kept');
    assert.equal(t.repo.get(stale), undefined, 'downloaded 11 days ago: past the global 10 days');
  } finally {
    t.close();
  }
});

test('disk guard: oldest closed first, never an open segment; maxBytes and minFreeBytes; vanished files turn missing', () => {
  const now = Date.UTC(2026, 5, 1);
  const t = setup({ maxBytes: 250 });
  try {
    const open = t.add(now - 9 * DAY, null, 'recording');
    const a = t.add(now - 3 * DAY, null);
    const b = t.add(now - 2 * DAY, null);
    const c = t.add(now - 1 * DAY, null);
    assert.equal(t.retention.makeSpace(), 2, '400 bytes over 250: the two oldest closed go');
    assert.equal(t.repo.get(a), undefined);
    assert.equal(t.repo.get(b), undefined);
    assert.ok(t.repo.get(open), 'the open one stays although it is oldest');
    assert.ok(t.repo.get(c));
    rmSync(t.layout.inside(`live/cam/${now - 1 * DAY}.flv`));
    assert.equal(t.retention.sweep(now).missing, 1);
    assert.equal(t.repo.get(c)!.status, 'missing');
  } finally {
    t.close();
  }
  let free = 0;
  const u = setup({ minFreeBytes: 1000, free: () => free });
  try {
    for (let i = 5; i > 0; i--) u.add(now - i * DAY, null);
    // Each deletion frees 300 bytes on this pretend filesystem.
    const real = u.retention.makeSpace.bind(u.retention);
    free = 100;
    const origDelete = u.retention.deleteRow.bind(u.retention);
    u.retention.deleteRow = (row) => {
      const ok = origDelete(row);
      if (ok) free += 300;
      return ok;
    };
    assert.equal(real(), 3, '100 -> 400 -> 700 -> 1000 bytes free');
    assert.equal(u.repo.oldest(10).length, 2);
  } finally {
    u.close();
  }
});
