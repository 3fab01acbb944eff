import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpIngest } from '../../rtp/ingest';
import { FlvTagCache, FlvViewerMuxer } from '../../src/formats/flv/viewer-muxer';
import { FakePublisher, impair, readRtpFixture } from '../rtp/helpers';
import { ffprobeJson } from '../helpers/media-tools';

/**
 * Third-party RTP (GB28181 device simulators, GStreamer, ffmpeg) through the gateway's ingest
 * (reorder, PS/TS demux, frame assembly), muxed to FLV by the gateway, decoded by ffprobe.
 */
const cases = [
  { file: 'srsbench-h264-aac-20f.rtp4571', video: 'h264', width: 1280, videoFrames: 20, audio: 'aac', audioFrames: 35 },
  { file: 'srsbench-h265-aac-20f.rtp4571', video: 'hevc', width: 1280, videoFrames: 20, audio: 'aac', audioFrames: 35 },
  { file: 'sbgb28181-h264-udp-48f.rtp4571', video: 'h264', width: 640, videoFrames: 48 },
  { file: 'ffmpeg-rtp-mpegts.rtp4571', video: 'h264', width: 320, videoFrames: 50, audio: 'aac', audioFrames: 83 },
];

const dir = mkdtempSync(join(tmpdir(), 'gw-ps-flv-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function ingestToFlv(file: string, arrival: ReturnType<typeof readRtpFixture>, waitForKeyframeAfterLoss = false): string {
  const publisher = new FakePublisher();
  const ingest = new RtpIngest(publisher, { waitForKeyframeAfterLoss });
  let now = 0;
  for (const packet of arrival) {
    ingest.push(packet, now);
    now += 1;
    ingest.poll(now);
  }
  ingest.end();
  publisher.assertTimestamps();
  const muxer = new FlvViewerMuxer(new FlvTagCache('enhanced'));
  const tracks = publisher.tracks.filter((t) => t.ready);
  const out: Buffer[] = [...muxer.start({ path: 'rtp/test', tracks })];
  // The hub starts viewers at a keyframe; so does this file.
  const firstKey = publisher.frames.findIndex((f) => f.keyframe && (f.codec === 'h264' || f.codec === 'h265'));
  for (const frame of publisher.frames.slice(firstKey)) out.push(...muxer.frame(frame));
  const path = join(dir, `${file}-${arrival.length}.flv`);
  writeFileSync(path, Buffer.concat(out));
  return path;
}

for (const c of cases) {
  for (const impairment of [{ name: 'as recorded' }, { name: 'with reordering and duplication', duplicate: 0.05, reorder: 0.1, reorderDistance: 4 }] as const) {
    test(`${c.file} ${impairment.name}: demuxed, muxed to FLV, decodes in ffprobe with the expected frame count`, async () => {
      const packets = readRtpFixture(c.file);
      const { arrived } = impairment.name === 'as recorded' ? { arrived: packets } : impair(packets, { ...impairment, seed: 7 });
      const flv = ingestToFlv(c.file, arrived);
      // ffprobe (a 2023 build) decodes every frame with -count_frames and reads Enhanced FLV
      // H.265; the npm ffmpeg (4.1) predates Enhanced FLV, so it is not the decoder here.
      const probe = await ffprobeJson(flv, ['-count_frames']);
      assert.equal(probe.stderr.trim(), '', `decoding printed errors: ${probe.stderr}`);
      const video = probe.streams.find((s) => s.codec_type === 'video');
      assert.equal(video?.codec_name, c.video);
      assert.equal(video?.width, c.width);
      assert.equal(Number(video?.nb_read_frames), c.videoFrames);
      if (c.audio) {
        const audio = probe.streams.find((s) => s.codec_type === 'audio');
        assert.equal(audio?.codec_name, c.audio);
        assert.ok(Math.abs(Number(audio?.nb_read_frames) - c.audioFrames) <= 1, `audio frames ${audio?.nb_read_frames}, expected ${c.audioFrames}`);
      }
    });
  }
}

test('with 3 % loss and waitForKeyframeAfterLoss, every frame that comes out decodes without an error', async () => {
  for (const c of cases) {
    const { arrived } = impair(readRtpFixture(c.file), { loss: 0.03, seed: 11 });
    const flv = ingestToFlv(c.file, arrived, true);
    const probe = await ffprobeJson(flv, ['-count_frames']);
    assert.equal(probe.stderr.trim(), '', `${c.file}: decoding printed errors: ${probe.stderr}`);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    assert.ok(Number(video?.nb_read_frames) > 0 && Number(video?.nb_read_frames) <= c.videoFrames, `${c.file}: ${video?.nb_read_frames} frames`);
  }
});
