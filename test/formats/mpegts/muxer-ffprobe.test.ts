import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from '../../../src/core/frame';
import type { Track } from '../../../src/core/track';
import { readFlvFrames } from '../../helpers/flv-file-source';
import { ffmpegPath, ffprobeJson, runTool, type ProbePacket } from '../../helpers/media-tools';
import { expectedVideoSize, muxAll, tsFileMedia } from './helpers';

/**
 * The third-party proof: ffprobe demuxes what our muxer wrote and finds exactly the frames that
 * went in (PTS, DTS, keyframe flag, size), and ffmpeg decodes it without a single message.
 */

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'gw-tsprobe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const inputs: { name: string; load: () => { tracks: Track[]; frames: Frame[] }; video: string; reference?: string }[] = [
  { name: 'H.264 High with B-frames + AAC 44.1 kHz (from an ffmpeg FLV)', load: () => readFlvFrames(join(FIXTURES, 'flv', 'ffmpeg-h264-aac.flv')), video: 'h264' },
  {
    name: 'H.264 High with B-frames + AAC (from an ffmpeg TS, parameter sets in-band)',
    load: () => tsFileMedia(readFileSync(join(FIXTURES, 'mpegts', 'ffmpeg-h264-aac.mpegts'))),
    video: 'h264',
    reference: 'ffmpeg-h264-aac.mpegts',
  },
  {
    name: 'H.265 Main with B-frames + AAC 48 kHz (x265, from an ffmpeg TS)',
    load: () => tsFileMedia(readFileSync(join(FIXTURES, 'mpegts', 'ffmpeg-h265-aac.mpegts'))),
    video: 'hevc',
    reference: 'ffmpeg-h265-aac.mpegts',
  },
];

function key(p: ProbePacket): boolean {
  return p.flags.startsWith('K');
}

for (const input of inputs) {
  test(`ffprobe reads back every frame exactly: ${input.name}`, async () => {
    const { tracks, frames } = input.load();
    const file = join(dir, `${input.video}-${inputs.indexOf(input)}.ts`);
    writeFileSync(file, muxAll(tracks, frames));
    const probe = await ffprobeJson(file, ['-show_packets']);
    assert.equal(probe.stderr.trim(), '', probe.stderr);
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    const audio = probe.streams.find((s) => s.codec_type === 'audio')!;
    assert.equal(video.codec_name, input.video);
    assert.equal(video.width, 320);
    assert.equal(video.height, 240);
    assert.equal(audio.codec_name, 'aac');
    const videoTrack = tracks.find((t) => t.id === 0)!;
    const inVideo = frames.filter((f) => f.trackId === 0);
    const inAudio = frames.filter((f) => f.trackId === 1);
    const outVideo = probe.packets!.filter((p) => p.stream_index === video.index);
    const outAudio = probe.packets!.filter((p) => p.stream_index === audio.index);
    assert.equal(outVideo.length, inVideo.length);
    assert.equal(outAudio.length, inAudio.length);
    assert.ok(
      inVideo.some((f) => f.pts !== f.dts),
      'the input has B-frames',
    );
    const sizes = inVideo.map((f) => expectedVideoSize(f, videoTrack));
    if (input.video === 'hevc') {
      // ffmpeg's HEVC parser re-cuts the stream one byte late: each AU's leading zero_byte (of its
      // 4-byte start code) is counted in the previous packet. It does the same with ffmpeg's own
      // TS files (their first packet is one byte over its PES payload too).
      sizes[0]! += 1;
      sizes[sizes.length - 1]! -= 1;
    }
    assert.deepEqual(
      outVideo.map((p) => [p.pts, p.dts, key(p), Number(p.size)]),
      inVideo.map((f, i) => [f.pts, f.dts, f.keyframe, sizes[i]]),
    );
    assert.deepEqual(
      outAudio.map((p) => [p.pts, p.dts, key(p), Number(p.size)]),
      inAudio.map((f) => [f.pts, f.dts, true, f.byteLength + 7]),
    );
    if (input.reference) {
      // The original file as ffprobe reads it: same video timestamps and keyframes as ours.
      const original = await ffprobeJson(join(FIXTURES, 'mpegts', input.reference), ['-show_packets']);
      const origVideo = original.packets!.filter((p) => p.stream_index === original.streams.find((s) => s.codec_type === 'video')!.index);
      assert.deepEqual(
        outVideo.map((p) => [p.pts, p.dts, key(p)]),
        origVideo.map((p) => [p.pts, p.dts, key(p)]),
      );
    }
    const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
    assert.equal(decode.code, 0);
    assert.equal(decode.stderr.trim(), '', `ffmpeg printed: ${decode.stderr}`);
  });
}
