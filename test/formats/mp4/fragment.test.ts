import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { movieFragment, type Mp4TrackRun } from '../../../src/formats/mp4/fragment';
import { find, parseBoxes, parseTrun } from './helpers';

const sampleArb = fc.record({
  duration: fc.integer({ min: 1, max: 100_000 }),
  compositionOffset: fc.integer({ min: -10_000, max: 10_000 }),
  sync: fc.boolean(),
  data: fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { minLength: 1, maxLength: 3 }),
});

const runsArb = fc.array(fc.record({ baseDecodeTime: fc.maxSafeNat(), samples: fc.array(sampleArb, { minLength: 1, maxLength: 40 }) }), { minLength: 1, maxLength: 3 });

test('movie fragments: box sizes add up, trun tables list every sample and data_offset points at its bytes', () => {
  fc.assert(
    fc.property(runsArb, fc.integer({ min: 1, max: 2 ** 32 - 1 }), (raw, sequence) => {
      const runs: Mp4TrackRun[] = raw.map((r, i) => ({
        trackId: i + 1,
        baseDecodeTime: r.baseDecodeTime,
        samples: r.samples.map((s) => {
          const data = s.data.map((d) => Buffer.from(d));
          return { duration: s.duration, compositionOffset: s.compositionOffset, sync: s.sync, data, size: data.reduce((n, d) => n + d.length, 0) };
        }),
      }));
      const out = Buffer.concat(movieFragment(sequence, runs));
      const boxes = parseBoxes(out);
      assert.deepEqual(
        boxes.map((b) => b.type),
        ['moof', 'mdat'],
      );
      const [moof, mdat] = boxes as [(typeof boxes)[0], (typeof boxes)[0]];
      assert.equal(find([moof], 'moof/mfhd')!.body.readUInt32BE(4), sequence);
      const trafs = moof.children.filter((b) => b.type === 'traf');
      assert.equal(trafs.length, runs.length);
      let expectedOffset = moof.size + 8;
      runs.forEach((run, i) => {
        const traf = trafs[i]!;
        assert.equal(find([traf], 'traf/tfhd')!.body.readUInt32BE(4), run.trackId);
        assert.equal(Number(find([traf], 'traf/tfdt')!.body.readBigUInt64BE(4)), run.baseDecodeTime);
        const trun = parseTrun(find([traf], 'traf/trun')!);
        assert.equal(trun.dataOffset, expectedOffset);
        assert.deepEqual(
          trun.samples.map((s) => [s.duration, s.size, s.cto, (s.flags & 0x10000) === 0]),
          run.samples.map((s) => [s.duration, s.size, s.compositionOffset, s.sync]),
        );
        let at = trun.dataOffset;
        for (const sample of run.samples) {
          assert.ok(out.subarray(at, at + sample.size).equals(Buffer.concat(sample.data as Buffer[])));
          at += sample.size;
        }
        expectedOffset = at;
      });
      assert.equal(mdat.start + mdat.size, out.length);
      assert.equal(expectedOffset, out.length);
    }),
    { numRuns: 200 },
  );
});
