import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SequenceExtender, seqBefore, seqDelta, seqNext } from '../../rtp/seq';

test('seqDelta handles wraparound', () => {
  assert.equal(seqDelta(65535, 0), 1);
  assert.equal(seqDelta(0, 65535), -1);
  assert.equal(seqDelta(100, 100), 0);
  assert.equal(seqDelta(0, 32767), 32767);
  assert.equal(seqDelta(0, 32768), -32768);
  assert.equal(seqBefore(65530, 3), true);
  assert.equal(seqBefore(3, 65530), false);
  assert.equal(seqNext(65535), 0);
});

test('SequenceExtender counts cycles and keeps reordered packets in place', () => {
  const ext = new SequenceExtender();
  assert.equal(ext.extend(65534), 65534);
  assert.equal(ext.extend(65535), 65535);
  assert.equal(ext.extend(1), 65537);
  assert.equal(ext.extend(0), 65536);
  assert.equal(ext.extend(2), 65538);
  assert.equal(ext.highest, 65538);
});

test('property: extending a walk of small steps reproduces it', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65535 }), fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 300 }), (start, steps) => {
      const ext = new SequenceExtender();
      let truth = start;
      let max = start;
      assert.equal(ext.extend(start), start);
      for (const step of steps) {
        // stay within half a cycle of the highest value seen
        const next = Math.max(truth + step, max - 30000);
        truth = next;
        max = Math.max(max, truth);
        assert.equal(ext.extend(((truth % 65536) + 65536) % 65536), truth);
      }
    }),
  );
});
