import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/log';
import { SegmentSeries, type SeriesContext } from '../../../src/app/recording/segment-series';
import { openDatabase } from '../../../storage/db';
import { RecordingsRepo } from '../../../storage/repos/recordings';
import { RecordingLayout } from '../../../storage/recording/layout';
import { SegmentStore } from '../../../storage/recording/segment-store';

const FPS_STEP = 3600; // 25 fps on the 90 kHz clock
const GOP = 25;

/** 40 s of media (a keyframe every second) offered as fast as a loop goes: a download far faster than real time. */
function feed(series: SegmentSeries, seconds: number): void {
  const t0 = performance.now();
  for (let i = 0; i < seconds * 25; i++) {
    const unit = { dts: 900_000 + i * FPS_STEP, receivedAt: t0 + i * 0.01, startable: i % GOP === 0, clock: true };
    series.push(unit, () => [Buffer.alloc(64)]);
  }
}

async function withSeries(extra: Partial<SeriesContext>, run: (series: SegmentSeries, repo: RecordingsRepo) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-series-'));
  const db = openDatabase(join(dir, 'db'), silentLogger());
  const repo = new RecordingsRepo(db);
  const store = new SegmentStore({ layout: new RecordingLayout(join(dir, 'record'), 'UTC'), repo, flushMs: 50, log: silentLogger(), onSegment: () => undefined });
  const ctx: SeriesContext = {
    store,
    path: 'rtp/34020000001320000001_34020000001310000001_download',
    planId: null,
    reason: 'download',
    segmentMs: () => 15_000,
    maxPendingBytes: 1 << 30,
    retryMs: 1000,
    log: silentLogger(),
    onWriteError: () => undefined,
    ...extra,
  };
  const series = new SegmentSeries('flv', ctx, () => ({ videoCodec: 'h264', width: 640, height: 480, audioCodec: null }));
  try {
    await run(series, repo);
  } finally {
    await series.close(true);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rowsOf = (repo: RecordingsRepo) => repo.find({ path: 'rtp/34020000001320000001_34020000001310000001_download', startMs: 0, endMs: Number.MAX_SAFE_INTEGER });

test('a device clip (startAtMs) is timed by its media clock from the range start: neither re-timed nor cut for arriving 40x faster', async () => {
  const startAtMs = Date.UTC(2026, 10, 30, 8, 0, 0);
  await withSeries({ startAtMs }, async (series, repo) => {
    feed(series, 40);
    assert.equal(series.mediaEndMs, startAtMs + 40_000, 'the open segment ends after its last frame on the device clock');
    await series.close(true);
    const rows = rowsOf(repo);
    assert.deepEqual(
      rows.map((r) => [r.startMs - startAtMs, r.endMs - startAtMs]),
      [
        [0, 15_000],
        [15_000, 30_000],
        [30_000, 40_000],
      ],
      'cut by media time at segmentSeconds, continuous, on the device clock',
    );
    assert.ok(rows.every((r) => r.reason === 'download'));
  });
});

test('the same input on the wall clock is a timeline jump (a source restart): the next segment is re-anchored near now', async () => {
  await withSeries({}, async (series, repo) => {
    const before = Date.now();
    feed(series, 40);
    await series.close(true);
    const rows = rowsOf(repo);
    assert.ok(rows.length >= 2);
    assert.ok(
      rows.every((r) => Math.abs(r.startMs - before) < 10_000),
      'each jump re-anchors on the wall clock',
    );
  });
});
