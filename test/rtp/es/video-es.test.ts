import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitAnnexB } from '../../../src/codecs/annexb';
import { VideoEs, type RawVideoAu } from '../../../rtp/es/video-es';
import { annexBAccessUnits, fixture } from '../helpers';

const H264 = fixture('ps', 'es-h264-320x240-10f.h264');
const H265 = fixture('ps', 'es-h265-320x240-10f.h265');

function collect(codec: 'h264' | 'h265' | undefined): { es: VideoEs; aus: RawVideoAu[] } {
  const aus: RawVideoAu[] = [];
  return { es: new VideoEs(codec, (au) => aus.push(au)), aus };
}

function unitsHex(units: readonly Buffer[]): string[] {
  return units.map((u) => u.toString('hex'));
}

for (const codec of ['h264', 'h265'] as const) {
  const source = codec === 'h264' ? H264 : H265;
  const frames = annexBAccessUnits(source, codec);

  test(`${codec}: one PES per frame (GB28181 packing)`, () => {
    assert.equal(frames.length, 10);
    const { es, aus } = collect(codec);
    frames.forEach((f, i) => {
      es.pesStart(i * 3600, undefined);
      es.data(f);
    });
    es.flush();
    assert.equal(aus.length, 10);
    aus.forEach((au, i) => {
      assert.equal(au.pts, i * 3600);
      assert.deepEqual(unitsHex(au.units), unitsHex(splitAnnexB(frames[i]!)));
    });
  });

  test(`${codec}: frames split over several PES, later parts without PTS or with the same PTS`, () => {
    const { es, aus } = collect(codec);
    frames.forEach((f, i) => {
      for (let o = 0; o < f.length; o += 700) {
        es.pesStart(o === 0 || i % 2 === 0 ? i * 3600 : undefined, undefined);
        es.data(f.subarray(o, o + 700));
      }
    });
    es.flush();
    assert.deepEqual(
      aus.map((a) => a.pts),
      frames.map((_, i) => i * 3600),
    );
    assert.deepEqual(
      aus.map((a) => Buffer.concat(a.units).length),
      frames.map((f) => Buffer.concat(splitAnnexB(f)).length),
    );
  });

  test(`${codec}: PES not aligned with frames (generic program stream): PTS goes to the frame starting in that PES`, () => {
    const { es, aus } = collect(codec);
    const all = Buffer.concat(frames);
    const starts = frames.map((_, i) => frames.slice(0, i).reduce((n, f) => n + f.length, 0));
    // 1000-byte PES; a PES carries the PTS of the first frame that starts inside it
    for (let o = 0; o < all.length; o += 1000) {
      const k = starts.findIndex((s) => s >= o && s < o + 1000);
      es.pesStart(k >= 0 ? k * 3600 : undefined, undefined);
      es.data(all.subarray(o, o + 1000));
    }
    es.flush();
    assert.equal(aus.length, 10);
    aus.forEach((au, i) => {
      assert.deepEqual(unitsHex(au.units), unitsHex(splitAnnexB(frames[i]!)), `frame ${i}`);
      if (au.pts !== undefined) assert.equal(au.pts, i * 3600);
    });
  });

  test(`${codec}: the codec is guessed from the payload when no PSM says it`, () => {
    const { es, aus } = collect(undefined);
    frames.forEach((f, i) => {
      es.pesStart(i * 3600, undefined);
      es.data(f);
    });
    es.flush();
    assert.equal(es.codec, codec);
    assert.equal(aus.length, 10);
  });

  test(`${codec}: length-prefixed (AVCC) payload is detected`, () => {
    const { es, aus } = collect(codec);
    frames.forEach((f, i) => {
      const prefixed = Buffer.concat(
        splitAnnexB(f).flatMap((u) => {
          const len = Buffer.alloc(4);
          len.writeUInt32BE(u.length);
          return [len, u];
        }),
      );
      es.pesStart(i * 3600, undefined);
      es.data(prefixed);
    });
    es.flush();
    assert.equal(aus.length, 10);
    assert.deepEqual(unitsHex(aus[3]!.units), unitsHex(splitAnnexB(frames[3]!)));
  });

  test(`${codec}: a loss drops the broken frame and its remaining parts, and nothing else`, () => {
    const { es, aus } = collect(codec);
    frames.forEach((f, i) => {
      const half = Math.floor(f.length / 2);
      es.pesStart(i * 3600, undefined);
      es.data(f.subarray(0, half));
      if (i === 4) {
        es.discontinuity();
        es.pesStart(i * 3600, undefined); // the rest of frame 4 (same PTS) after the gap
      }
      es.data(f.subarray(half));
    });
    es.flush();
    assert.deepEqual(
      aus.map((a) => a.pts),
      [0, 1, 2, 3, 5, 6, 7, 8, 9].map((i) => i * 3600),
    );
    assert.equal(es.stats.droppedAccessUnits, 1);
  });

  test(`${codec}: flush emits at once (RTP marker), and a wrong early flush costs only that frame`, () => {
    const { es, aus } = collect(codec);
    es.pesStart(0, undefined);
    es.data(frames[0]!);
    es.flush();
    assert.equal(aus.length, 1);
    es.pesStart(3600, undefined);
    const f = frames[1]!;
    es.data(f.subarray(0, 200));
    es.flush(); // wrong: the frame goes on
    es.data(f.subarray(200));
    es.pesStart(7200, undefined);
    es.data(frames[2]!);
    es.flush();
    assert.deepEqual(
      aus.map((a) => a.pts),
      [0, 3600, 7200],
    );
    assert.ok(es.stats.droppedBytes > 0);
  });
}

test('fuzz: random input never throws, never emits empty access units, and stays bounded', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<'h264' | 'h265' | undefined>('h264', 'h265', undefined),
      fc.array(fc.tuple(fc.option(fc.nat(1000)), fc.uint8Array({ maxLength: 300 })), { maxLength: 12 }),
      (codec, parts) => {
        const { es, aus } = collect(codec);
        for (const [pts, bytes] of parts) {
          es.pesStart(pts ?? undefined, undefined);
          es.data(Buffer.from(bytes));
        }
        es.flush();
        for (const au of aus) assert.ok(au.units.length > 0 && au.units.every((u) => u.length > 0));
      },
    ),
    { numRuns: 1000 },
  );
  // mutated real frames
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(H264.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 10 }), (edits) => {
      const b = Buffer.from(H264);
      for (const [i, v] of edits) b[i] = v;
      const { es } = collect(undefined);
      for (let o = 0; o < b.length; o += 777) {
        es.pesStart(o, undefined);
        es.data(b.subarray(o, o + 777));
      }
      es.flush();
    }),
    { numRuns: 300 },
  );
});
