import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EsAssembler } from '../../../rtp/es/es-assembler';
import { TsDemuxer, looksLikeTs } from '../../../rtp/ts/ts-demuxer';
import { parsePat, parsePmt } from '../../../rtp/ts/psi';
import type { AccessUnit } from '../../../rtp/access-unit';
import { fixture, parseErrorOnly, rng } from '../helpers';

/** TS files made by ffmpeg 4.1 `-f mpegts` (see test/fixtures/ts/README.md); ffmpeg counts 50 video frames and 88 / 95 audio frames. */
const CASES = [
  { file: 'ffmpeg-h264-aac.ts', video: 'h264', audio: 88 },
  { file: 'ffmpeg-h265-aac.ts', video: 'h265', audio: 95 },
] as const;

function demux(ts: Buffer, chunk = 1316, drop?: (i: number) => boolean): { aus: AccessUnit[]; demuxer: TsDemuxer; es: EsAssembler } {
  const aus: AccessUnit[] = [];
  const es = new EsAssembler({ onAccessUnit: (au) => aus.push(au) }, { earlyFlush: false });
  const demuxer = new TsDemuxer(es);
  for (let o = 0, i = 0; o < ts.length; o += chunk, i++) {
    if (drop?.(i)) continue;
    demuxer.feed(ts.subarray(o, o + chunk));
  }
  es.end();
  return { aus, demuxer, es };
}

for (const c of CASES) {
  test(`${c.file}: 50 video and ${c.audio} audio access units, whatever the chunking`, () => {
    const ts = fixture('ts', c.file);
    for (const chunk of [188, 1316, 1000, 7]) {
      const { aus, demuxer } = demux(ts, chunk);
      const video = aus.filter((a) => a.kind === 'video');
      assert.equal(video.length, 50, `chunk ${chunk}`);
      assert.equal(aus.filter((a) => a.kind === 'audio').length, c.audio);
      assert.ok(video.every((v) => v.codec === c.video));
      assert.equal(demuxer.stats.errors, 0);
      for (let i = 1; i < video.length; i++) assert.equal(video[i]!.dts - video[i - 1]!.dts, 3600);
    }
  });
}

test('looksLikeTs: whole 188-byte packets opening with 0x47', () => {
  const ts = fixture('ts', 'ffmpeg-h264-aac.ts');
  assert.equal(looksLikeTs(ts.subarray(0, 188 * 7)), true);
  assert.equal(looksLikeTs(ts.subarray(0, 188 * 7 - 1)), false);
  assert.equal(looksLikeTs(Buffer.from([0, 0, 1, 0xba])), false);
});

test('parses the PAT and PMT ffmpeg writes', () => {
  const ts = fixture('ts', 'ffmpeg-h264-aac.ts');
  // packet 0 is the SDT, then PAT and PMT (pointer_field 0 each)
  const pat = ts.subarray(188 + 5, 376);
  assert.deepEqual(parsePat(pat), [{ program: 1, pid: 0x1000 }]);
  const pmtPacket = ts.subarray(376, 564);
  assert.deepEqual(parsePmt(pmtPacket.subarray(5)), [
    { streamType: 0x1b, pid: 0x100 },
    { streamType: 0x0f, pid: 0x101 },
  ]);
});

test('garbage between packets is skipped; a lost TS packet drops only the broken PES', () => {
  const ts = fixture('ts', 'ffmpeg-h264-aac.ts');
  const withGarbage = Buffer.concat([ts.subarray(0, 188 * 30), Buffer.from('deadbeef4700', 'hex'), ts.subarray(188 * 30)]);
  const g = demux(withGarbage);
  assert.equal(g.demuxer.stats.garbageBytes, 6);
  assert.ok(g.aus.filter((a) => a.kind === 'video').length >= 49);
  const lossy = demux(ts, 188, (i) => i === 100);
  assert.equal(lossy.demuxer.stats.continuityErrors, 1);
  const video = lossy.aus.filter((a) => a.kind === 'video').length;
  assert.ok(video >= 48 && video < 50, `video ${video}`);
});

test('fuzz: random and mutated TS never throws', () => {
  const ts = fixture('ts', 'ffmpeg-h264-aac.ts').subarray(0, 188 * 60);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 6 }), (chunks) => {
      const demuxer = new TsDemuxer(new EsAssembler({ onAccessUnit: () => undefined }));
      for (const c of chunks) demuxer.feed(Buffer.from([0x47, ...c]));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const random = rng(seed);
      const b = Buffer.from(ts);
      for (let k = 0; k < 20; k++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
      demux(b, 1 + Math.floor(random() * 2000));
    }),
    { numRuns: 200 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => parseErrorOnly(() => parsePmt(Buffer.from([0x02, ...bytes])))), { numRuns: 1000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => parseErrorOnly(() => parsePat(Buffer.from([0x00, ...bytes])))), { numRuns: 1000 });
});
