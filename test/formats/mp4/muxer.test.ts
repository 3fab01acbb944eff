import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Frame } from '../../../src/core/frame';
import type { Track } from '../../../src/core/track';
import { Fmp4Muxer } from '../../../src/formats/mp4/muxer';
import { readFlvFrames } from '../../helpers/flv-file-source';
import { ffmpegPath, ffprobeJson, runTool, type ProbePacket } from '../../helpers/media-tools';
import { tsFileMedia } from '../mpegts/helpers';
import { find, parseBoxes, parseTrun, type ParsedBox } from './helpers';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'gw-mp4-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function muxAll(tracks: readonly Track[], frames: readonly Frame[]): Buffer {
  const muxer = new Fmp4Muxer();
  const parts = [...muxer.start(tracks)];
  for (const frame of frames) parts.push(...muxer.frame(frame));
  parts.push(...muxer.end());
  return Buffer.concat(parts);
}

const inputs = [
  { name: 'H.264 with B-frames + AAC 44.1 kHz (ffmpeg FLV)', load: () => readFlvFrames(join(FIXTURES, 'flv', 'ffmpeg-h264-aac.flv')), video: 'h264', audio: 'aac' },
  { name: 'H.265 with B-frames + AAC 48 kHz (ffmpeg TS)', load: () => tsFileMedia(readFileSync(join(FIXTURES, 'mpegts', 'ffmpeg-h265-aac.mpegts'))), video: 'hevc', audio: 'aac' },
  { name: 'H.264 + G.711 A-law (ffmpeg FLV)', load: () => readFlvFrames(join(FIXTURES, 'flv', 'ffmpeg-h264-g711a.flv')), video: 'h264', audio: 'pcm_alaw' },
];

/** The sample tables of one track across every fragment. */
function samplesOf(boxes: ParsedBox[], trackId: number): { duration: number; size: number; cto: number; sync: boolean; tfdt: number }[] {
  const out = [];
  for (const moof of boxes.filter((b) => b.type === 'moof')) {
    for (const traf of moof.children.filter((b) => b.type === 'traf')) {
      if (find([traf], 'traf/tfhd')!.body.readUInt32BE(4) !== trackId) continue;
      const tfdt = Number(find([traf], 'traf/tfdt')!.body.readBigUInt64BE(4));
      for (const s of parseTrun(find([traf], 'traf/trun')!).samples) out.push({ duration: s.duration, size: s.size, cto: s.cto, sync: (s.flags & 0x10000) === 0, tfdt });
    }
  }
  return out;
}

for (const input of inputs) {
  test(`fMP4 of ${input.name}: every fragment opens with a keyframe, sample tables match the frames, ffprobe reads every packet silently`, async () => {
    const { tracks, frames } = input.load();
    const out = muxAll(tracks, frames);
    const boxes = parseBoxes(out);
    assert.deepEqual(
      boxes.slice(0, 2).map((b) => b.type),
      ['ftyp', 'moov'],
    );
    const video = tracks.find((t) => t.id === 0)!;
    assert.ok(find(boxes, `moov/trak/mdia/minf/stbl/stsd/${video.codec === 'h264' ? 'avc1/avcC' : 'hvc1/hvcC'}`));
    const inVideo = frames.filter((f) => f.trackId === 0);
    const videoSamples = samplesOf(boxes, 1);
    assert.equal(videoSamples.length, inVideo.length);
    assert.deepEqual(
      videoSamples.map((s) => s.sync),
      inVideo.map((f) => f.keyframe),
    );
    assert.deepEqual(
      videoSamples.map((s) => s.size),
      inVideo.map((f) => f.units.reduce((n, u) => n + 4 + u.length, 0)),
    );
    assert.deepEqual(
      videoSamples.map((s) => s.cto),
      inVideo.map((f) => f.pts - f.dts),
    );
    const firsts = boxes
      .filter((b) => b.type === 'moof')
      .map(
        (m) =>
          parseTrun(
            find(
              m.children.filter((c) => c.type === 'traf'),
              'traf/trun',
            )!,
          ).samples[0]!,
      );
    for (const first of firsts) assert.equal(first.flags & 0x10000, 0, 'a fragment starts with a sync sample');

    const file = join(dir, `${input.video}-${input.audio}.mp4`);
    writeFileSync(file, out);
    const probe = await ffprobeJson(file, ['-show_packets']);
    assert.equal(probe.stderr.trim(), '', probe.stderr);
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), [input.video, input.audio].sort());
    const vStream = probe.streams.find((s) => s.codec_type === 'video')!;
    const aStream = probe.streams.find((s) => s.codec_type === 'audio')!;
    const vPackets = probe.packets!.filter((p: ProbePacket) => p.stream_index === vStream.index);
    assert.equal(vPackets.length, inVideo.length);
    const base = frames[0]!.dts;
    assert.deepEqual(
      vPackets.map((p) => [p.dts, p.pts, p.flags.startsWith('K')]),
      inVideo.map((f) => [f.dts - base, f.pts - base, f.keyframe]),
    );
    assert.equal(probe.packets!.filter((p) => p.stream_index === aStream.index).length, frames.filter((f) => f.trackId === 1).length);
    const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
    assert.equal(decode.code, 0);
    assert.equal(decode.stderr.trim(), '', decode.stderr);
  });
}

test('fMP4 muxer on random frame sequences: decode times are continuous across fragments and sizes match', () => {
  const { tracks, frames } = readFlvFrames(join(FIXTURES, 'flv', 'ffmpeg-h264-aac.flv'));
  const video = frames.filter((f) => f.trackId === 0);
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { minLength: video.length, maxLength: video.length }),
      fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: video.length, maxLength: video.length }),
      (keys, steps) => {
        let dts = 0;
        const input = video.map((f, i) => {
          dts += steps[i]!;
          return { ...f, dts, pts: dts, keyframe: i === 0 || keys[i]! };
        });
        const boxes = parseBoxes(
          muxAll(
            tracks.filter((t) => t.id === 0),
            input,
          ),
        );
        const samples = samplesOf(boxes, 1);
        assert.equal(samples.length, input.length);
        let clock = samples[0]!.tfdt;
        let lastTfdt = -1;
        samples.forEach((s, i) => {
          if (s.tfdt !== lastTfdt) {
            assert.equal(s.tfdt, clock, 'tfdt continues where the last fragment ended');
            lastTfdt = s.tfdt;
          }
          assert.equal(clock, input[i]!.dts - input[0]!.dts);
          clock += s.duration;
        });
      },
    ),
    { numRuns: 50 },
  );
});
