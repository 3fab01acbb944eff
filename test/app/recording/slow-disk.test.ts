import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/log';
import { Registry, DEFAULT_REGISTRY_OPTIONS } from '../../../src/hub/registry';
import { TsFeeds } from '../../../src/formats/mpegts/ts-feeds';
import { FLV_TAG_FEEDS } from '../../../src/formats/flv/viewer-muxer';
import { Recorder } from '../../../src/app/recording/recorder';
import { openDatabase } from '../../../storage/db';
import { RecordingsRepo } from '../../../storage/repos/recordings';
import { RecordingLayout } from '../../../storage/recording/layout';
import { SegmentStore } from '../../../storage/recording/segment-store';
import type { OpenSegmentFileHandle } from '../../../storage/recording/segment-file';
import { H264_TEST_TRACK, RecordingSink, TestSource, sleep, videoFrame } from '../../helpers/hub-fixtures';

const FRAME_BYTES = 4096;
const GOP = 25;
const STEP = 360; // 250 fps on the 90 kHz clock: media time stays near wall time (no timeline-jump cut)
const MAX_PENDING = 64 * 1024;

/** A disk that takes nothing until `release()`: every writev waits for the gate. */
function stalledDisk(): { openFile: OpenSegmentFileHandle; release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const openFile: OpenSegmentFileHandle = async (absolutePath) => {
    const handle = await open(absolutePath, 'wx');
    return {
      writev: async (buffers) => {
        await gate;
        return handle.writev(buffers);
      },
      close: () => handle.close(),
    };
  };
  return { openFile, release: () => release() };
}

/** Video tags of an FLV file: timestamp (ms) and whether it is a coded keyframe. */
function videoTags(file: string): { ms: number; keyframe: boolean }[] {
  const b = readFileSync(file);
  const out: { ms: number; keyframe: boolean }[] = [];
  let at = b.readUInt32BE(5) + 4;
  while (at + 11 <= b.length) {
    const size = b.readUIntBE(at + 1, 3);
    const ms = b.readUIntBE(at + 4, 3) | (b[at + 7]! << 24);
    if (b[at] === 9 && b[at + 12] === 1) out.push({ ms, keyframe: b[at + 11]! >> 4 === 1 });
    at += 11 + size + 4;
  }
  return out;
}

test('a recorder behind a stalled disk drops to the next keyframe, counts it, stays under its bound; a live viewer gets every frame', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-slow-disk-'));
  const db = openDatabase(join(dir, 'db'), silentLogger());
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50, waitForPublisherMs: 500, closeAfterMs: 100 }, silentLogger());
  const feeds = new TsFeeds(registry, silentLogger());
  const disk = stalledDisk();
  const layout = new RecordingLayout(join(dir, 'record'), 'UTC');
  const repo = new RecordingsRepo(db);
  const store = new SegmentStore({ layout, repo, flushMs: 50, log: silentLogger(), onSegment: () => undefined, openFile: disk.openFile });
  const recorder = new Recorder(
    { path: 'live/slow', formats: ['flv'], reason: 'manual', planId: null, segmentSeconds: 600, maxPendingBytes: MAX_PENDING, retryMs: 1000 },
    { registry, feeds, store, tagCache: (info) => info.feed(FLV_TAG_FEEDS.enhanced), log: silentLogger(), onWriteError: () => undefined },
  );
  try {
    const publisher = registry.publish('live/slow', new TestSource());
    publisher.setTracks([H264_TEST_TRACK]);
    let dts = 0;
    let fed = 0;
    const feed = (frames: number): void => {
      for (let i = 0; i < frames; i++, fed++, dts += STEP) publisher.write(videoFrame(dts, fed % GOP === 0, FRAME_BYTES));
    };
    feed(1); // a keyframe: the stream becomes playable, viewer and recorder start on it (GOP cache)
    const viewer = new RecordingSink();
    await registry.subscribe('live/slow', viewer);
    recorder.start();
    // Wait until the recorder is a reader of the stream.
    for (let i = 0; i < 100 && registry.get('live/slow')!.readers.byProtocol.record === undefined; i++) await sleep(10);
    assert.equal(registry.get('live/slow')!.readers.byProtocol.record, 1);

    // Ten GOPs while the disk takes nothing, faster than it writes (one event-loop turn per frame).
    let maxPending = 0;
    const viewerBefore = viewer.frames.length;
    for (let i = 0; i < 10 * GOP; i++) {
      feed(1);
      maxPending = Math.max(maxPending, recorder.snapshot().pendingBytes);
      if (i % 10 === 0) await sleep(1);
    }
    const stalled = recorder.snapshot();
    assert.equal(viewer.frames.length - viewerBefore, 10 * GOP, 'the viewer receives every frame while the recorder is behind');
    assert.ok(stalled.drops > 0, `drops counted: ${stalled.drops}`);
    // The bound holds: at most one frame (plus its FLV tag overhead) beyond maxPendingBytes, for the whole stall.
    assert.ok(maxPending <= MAX_PENDING + FRAME_BYTES + 64, `held ${maxPending} bytes, bound ${MAX_PENDING}`);
    const held = stalled.pendingBytes;

    // The disk comes back: the recorder resumes at the next keyframe.
    disk.release();
    for (let i = 0; i < 100 && recorder.snapshot().pendingBytes > 0; i++) await sleep(10);
    assert.equal(recorder.snapshot().pendingBytes, 0, 'the backlog drains once the disk takes it');
    assert.ok(held > 0);
    // At a pace the disk keeps up with (one frame per few ms).
    for (let i = 0; i < 2 * GOP; i++) {
      feed(1);
      await sleep(3);
    }
    await sleep(100);
    const drops = recorder.snapshot().drops;
    const file = layout.inside(recorder.snapshot().files[0]!);
    await recorder.stop('test over');
    assert.equal(recorder.snapshot().segments, 1);

    const tags = videoTags(file);
    assert.equal(tags.length + drops, fed, `every frame is written or counted as dropped (${tags.length} written, ${drops} dropped, ${fed} fed)`);
    assert.equal(tags[0]!.keyframe, true);
    for (let i = 1; i < tags.length; i++) {
      const gap = tags[i]!.ms - tags[i - 1]!.ms;
      if (gap !== STEP / 90) assert.equal(tags[i]!.keyframe, true, `after a gap of ${gap} ms the recording restarts at a keyframe (tag ${i})`);
    }
    // After the disk recovered, the frames up to the next keyframe are dropped, then nothing is.
    const lastFed = (fed - 1) * (STEP / 90);
    const resumedAt = Math.ceil((fed - 2 * GOP) / GOP) * GOP * (STEP / 90);
    const tail = tags.filter((t) => t.ms >= resumedAt);
    assert.ok(tail[0]!.keyframe);
    assert.equal(tail.length, (lastFed - resumedAt) / (STEP / 90) + 1, 'every frame from the first keyframe after the recovery is written');
    assert.equal(viewer.frames.length, fed, 'the viewer has every frame ever published');
  } finally {
    disk.release();
    await recorder.stop('test over');
    await registry.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
