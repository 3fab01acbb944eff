import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/log';
import { GbDownloads, type GbDownloadsDeps } from '../../../src/app/gb-bridge/downloads';
import type { PlaySession } from '../../../src/app/gb-bridge/play-session';
import type { SegmentEvent } from '../../../storage/recording/segment-store';
import { openDatabase } from '../../../storage/db';
import { DownloadRepo } from '../../../storage/repos/gb-downloads';

const DEVICE = '34020000001320000001';
const CHANNEL = '34020000001310000001';
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const START = NOW - 86_400_000;
const END = START + 20_000;

/** A bridge whose INVITE the test settles, and a recorder whose media end the test moves. */
function fakes() {
  const calls: string[] = [];
  let settle: { resolve(s: PlaySession): void; reject(e: unknown): void } | undefined;
  let onEnd: ((reason: string) => void) | undefined;
  const session = { deviceFinished: false, answer: { fileSize: 4096, media: [] } } as unknown as PlaySession & { deviceFinished: boolean };
  let mediaEnd: number | undefined;
  let segmentListener: ((e: SegmentEvent) => void) | undefined;
  const bridge: GbDownloadsDeps['bridge'] = {
    download: (_d, _c, range, speed, end) => {
      calls.push(`invite ${range.start}-${range.end} x${speed}`);
      onEnd = end;
      return new Promise((resolve, reject) => (settle = { resolve, reject }));
    },
    stopDownload: async (_s, reason) => void calls.push(`bye: ${reason}`),
  };
  const recording: GbDownloadsDeps['recording'] = {
    startDownload: (path, startAtMs) => {
      calls.push(`record ${path} from ${startAtMs - START}`);
      return { mediaEndMs: () => mediaEnd, snapshot: () => ({ bytes: mediaEnd === undefined ? 0 : 1000 }) };
    },
    stopDownload: async (_p, reason) => void calls.push(`stop recorder: ${reason}`),
    events: { on: (_e, listener) => ((segmentListener = listener), () => (segmentListener = undefined)) },
  };
  return {
    calls,
    session,
    bridge,
    recording,
    answer: () => settle!.resolve(session),
    refuse: (err: unknown) => settle!.reject(err),
    end: (reason: string) => onEnd!(reason),
    media: (ms: number) => (mediaEnd = START + ms),
    segment: (id: number) => segmentListener?.({ id, path: `rtp/${DEVICE}_${CHANNEL}_download`, format: 'flv', file: 'x', startMs: START, endMs: END, bytes: 1 }),
  };
}

async function withDownloads(run: (d: GbDownloads, f: ReturnType<typeof fakes>, repo: DownloadRepo) => Promise<void>, dir = mkdtempSync(join(tmpdir(), 'gw-dl-'))): Promise<void> {
  const db = openDatabase(dir, silentLogger());
  const repo = new DownloadRepo(db);
  const f = fakes();
  const downloads = new GbDownloads({ bridge: f.bridge, recording: f.recording, repo, waitMs: 1000, maxSpeed: 16, log: silentLogger(), now: () => NOW });
  try {
    await run(downloads, f, repo);
  } finally {
    await downloads.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const request = { deviceId: DEVICE, channelId: CHANNEL, startMs: START, endMs: END, speed: 4 };

test('a download records from the range start, reports progress, and completes on MediaStatus 121', async () => {
  await withDownloads(async (downloads, f) => {
    const started = downloads.start(request);
    f.answer();
    const view = await started;
    assert.deepEqual(f.calls, [`record rtp/${DEVICE}_${CHANNEL}_download from 0`, `invite ${START / 1000}-${END / 1000} x4`]);
    assert.deepEqual([view.state, view.percent, view.fileSize], ['downloading', 0, 4096]);
    f.media(5000);
    f.segment(42);
    assert.equal(downloads.get(view.id)!.percent, 25);
    f.media(19_960);
    assert.equal(downloads.get(view.id)!.percent, 99.8, 'never 100 before the end');
    f.session.deviceFinished = true;
    f.end('the device reported the end of the media (MediaStatus 121)');
    await waitUntil(() => downloads.get(view.id)!.state !== 'downloading');
    const done = downloads.get(view.id)!;
    assert.deepEqual([done.state, done.percent, done.mediaMs, done.error, done.recordingIds], ['complete', 100, 19_960, null, [42]]);
    assert.equal(f.calls.at(-1), 'stop recorder: download complete');
    assert.equal(done.playback, `/record/rtp/${DEVICE}_${CHANNEL}_download.flv?start=${START}&end=${END}`);
  });
});

test('ended without MediaStatus 121: complete within 2 s of the end (wvp#1758), else failed with how far it got', async () => {
  await withDownloads(async (downloads, f) => {
    const near = downloads.start(request);
    f.answer();
    const a = await near;
    f.media(18_500);
    f.end('no RTP from device for 10 s');
    await waitUntil(() => downloads.get(a.id)!.state !== 'downloading');
    assert.equal(downloads.get(a.id)!.state, 'complete');

    const far = downloads.start(request);
    f.answer();
    const b = await far;
    f.media(7000);
    f.end('BYE from the device');
    await waitUntil(() => downloads.get(b.id)!.state !== 'downloading');
    assert.deepEqual([downloads.get(b.id)!.state, downloads.get(b.id)!.error], ['failed', 'BYE from the device at 35%']);
  });
});

test('a refused INVITE fails the POST and the row says why; a cancel while inviting hangs up once the dialog exists', async () => {
  await withDownloads(async (downloads, f, repo) => {
    const refused = downloads.start(request);
    f.refuse(new GatewayError('SOURCE_START_FAILED', 'device answered 404 Not Found to the INVITE'));
    await assert.rejects(refused, /404 Not Found/);
    assert.deepEqual([repo.find().items[0]!.state, repo.find().items[0]!.error], ['failed', 'device answered 404 Not Found to the INVITE']);

    const starting = downloads.start(request);
    const id = repo.find().items[0]!.id;
    const cancelling = downloads.cancel(id);
    f.answer();
    const [view, cancelled] = await Promise.all([starting, cancelling]);
    assert.equal(view.state, 'cancelled');
    assert.equal(cancelled!.state, 'cancelled');
    assert.match(cancelled!.error!, /^cancelled through the API at 0%$/);
    assert.ok(f.calls.includes('bye: cancelled through the API at 0%'), f.calls.join('\n'));
    assert.equal(await downloads.cancel(id), undefined, 'a finished download is not running');
  });
});

test('bad requests: range, future end, speed; one download per channel at a time; shutdown fails what runs; a restart fails what a stopped gateway left', async () => {
  await withDownloads(async (downloads, f) => {
    for (const bad of [
      { ...request, endMs: START },
      { ...request, endMs: NOW + 60_000 },
      { ...request, speed: 0 },
      { ...request, speed: 17 },
      { ...request, speed: 1.5 },
    ]) {
      await assert.rejects(downloads.start(bad), (err: unknown) => err instanceof GatewayError && err.code === 'BAD_REQUEST');
    }
    const first = downloads.start(request);
    f.answer();
    const view = await first;
    await assert.rejects(downloads.start(request), (err: unknown) => err instanceof GatewayError && err.code === 'STREAM_BUSY');
    assert.throws(() => downloads.remove(view.id), /running/);
  });
  // A row a stopped gateway left 'downloading' is failed when the next one starts.
  const again = mkdtempSync(join(tmpdir(), 'gw-dl-'));
  const db = openDatabase(again, silentLogger());
  const repo = new DownloadRepo(db);
  const id = repo.insert({ deviceId: DEVICE, channelId: CHANNEL, path: 'rtp/x_download', startMs: START, endMs: END, speed: 1 });
  repo.update(id, { state: 'downloading' });
  const f = fakes();
  const downloads = new GbDownloads({ bridge: f.bridge, recording: f.recording, repo, waitMs: 1000, maxSpeed: 16, log: silentLogger() });
  assert.deepEqual([downloads.get(id)!.state, downloads.get(id)!.error], ['failed', 'the gateway stopped during the download']);
  await downloads.close();
  db.close();
  rmSync(again, { recursive: true, force: true });
});

test('shutdown: a running download ends failed, its recorder closed', async () => {
  await withDownloads(async (downloads, f, repo) => {
    const started = downloads.start(request);
    f.answer();
    const view = await started;
    await downloads.close();
    assert.deepEqual([repo.get(view.id)!.state, repo.get(view.id)!.error], ['failed', 'the gateway stopped during the download']);
    assert.ok(f.calls.includes('bye: the gateway is stopping'));
    assert.ok(f.calls.includes('stop recorder: download failed'));
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check(), 'condition not reached');
}
