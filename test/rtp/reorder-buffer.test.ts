import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReorderBuffer, type ReorderedPacket } from '../../rtp/reorder-buffer';
import type { RtpPacket } from '../../rtp/packet';
import { seqDelta } from '../../rtp/seq';

function pkt(sequence: number): RtpPacket {
  return { marker: false, payloadType: 96, sequence: sequence & 0xffff, timestamp: 0, ssrc: 1, csrcs: [], payload: Buffer.alloc(0) };
}

const seqs = (out: ReorderedPacket[]): number[] => out.map((o) => o.packet.sequence);

test('in-order packets pass straight through', () => {
  const rb = new ReorderBuffer();
  const out: ReorderedPacket[] = [];
  for (let i = 0; i < 5; i++) out.push(...rb.push(pkt(i), i));
  assert.deepEqual(seqs(out), [0, 1, 2, 3, 4]);
  assert.ok(out.every((o) => !o.discontinuity));
  assert.equal(rb.nextDeadline(), undefined);
});

test('reordered packets are put back in order, across the 16-bit wrap', () => {
  const rb = new ReorderBuffer();
  const out: ReorderedPacket[] = [];
  for (const s of [65533, 65535, 0, 65534, 2, 1, 3]) out.push(...rb.push(pkt(s), 0));
  assert.deepEqual(seqs(out), [65533, 65534, 65535, 0, 1, 2, 3]);
  assert.ok(out.every((o) => !o.discontinuity));
  assert.equal(rb.stats.reordered, 2);
  assert.equal(rb.stats.lost, 0);
});

test('duplicates are dropped, queued or already released', () => {
  const rb = new ReorderBuffer();
  const out: ReorderedPacket[] = [];
  for (const s of [1, 1, 3, 3, 2, 2, 1]) out.push(...rb.push(pkt(s), 0));
  assert.deepEqual(seqs(out), [1, 2, 3]);
  assert.equal(rb.stats.duplicates, 4);
});

test('a gap is given up after maxDelayMs: loss counted, discontinuity flagged', () => {
  const rb = new ReorderBuffer({ maxDelayMs: 1000 });
  assert.deepEqual(seqs(rb.push(pkt(10), 0)), [10]);
  assert.deepEqual(seqs(rb.push(pkt(13), 100)), []);
  assert.deepEqual(seqs(rb.push(pkt(14), 200)), []);
  assert.equal(rb.nextDeadline(), 1100);
  assert.deepEqual(seqs(rb.poll(1099)), []);
  const out = rb.poll(1100);
  assert.deepEqual(seqs(out), [13, 14]);
  assert.deepEqual(
    out.map((o) => o.discontinuity),
    [true, false],
  );
  assert.equal(rb.stats.lost, 2);
  // the lost packet arriving now is late, not released
  assert.deepEqual(seqs(rb.push(pkt(11), 1200)), []);
  assert.equal(rb.stats.late, 1);
  assert.deepEqual(seqs(rb.push(pkt(15), 1300)), [15]);
});

test('maxDelayMs 0 (TCP) releases across a gap at once', () => {
  const rb = new ReorderBuffer({ maxDelayMs: 0 });
  rb.push(pkt(1), 0);
  const out = rb.push(pkt(5), 0);
  assert.deepEqual(seqs(out), [5]);
  assert.equal(out[0]!.discontinuity, true);
  assert.equal(rb.stats.lost, 3);
});

test('the window is bounded in packets', () => {
  const rb = new ReorderBuffer({ maxPackets: 8, maxDelayMs: 10_000 });
  rb.push(pkt(0), 0);
  for (let s = 2; s <= 8; s++) assert.deepEqual(seqs(rb.push(pkt(s), 0)), []);
  assert.equal(rb.pending, 7);
  const out = rb.push(pkt(9), 0);
  assert.deepEqual(seqs(out), [2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(out[0]!.discontinuity, true);
  assert.equal(rb.pending, 0);
});

test('a big sequence jump is a restart, not thousands of losses', () => {
  const rb = new ReorderBuffer();
  rb.push(pkt(100), 0);
  const out = rb.push(pkt(30000), 0);
  assert.deepEqual(seqs(out), [30000]);
  assert.equal(out[0]!.discontinuity, true);
  assert.equal(rb.stats.restarts, 1);
  assert.equal(rb.stats.lost, 0);
  assert.deepEqual(seqs(rb.push(pkt(30001), 0)), [30001]);
});

test('property: output is strictly ordered, unique, and complete when nothing is lost', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 65535 }),
      fc.integer({ min: 1, max: 400 }),
      fc.array(fc.tuple(fc.nat(399), fc.nat(399)), { maxLength: 100 }),
      fc.array(fc.nat(399), { maxLength: 30 }),
      fc.array(fc.nat(399), { maxLength: 30 }),
      (start, count, swaps, dups, drops) => {
        const order = Array.from({ length: count }, (_, i) => i);
        for (const [a, b] of swaps) {
          if (a < count && b < count && Math.abs(a - b) < 50) [order[a], order[b]] = [order[b]!, order[a]!];
        }
        const dropSet = new Set(drops.filter((d) => d !== 0));
        const sent: number[] = [];
        for (const i of order) {
          if (!dropSet.has(i)) sent.push(i);
          if (dups.includes(i)) sent.push(i);
        }
        const rb = new ReorderBuffer({ maxPackets: 64, maxDelayMs: 50 });
        const out: ReorderedPacket[] = [];
        let now = 0;
        for (const i of sent) {
          out.push(...rb.push(pkt(start + i), now));
          now += 1;
          out.push(...rb.poll(now));
        }
        out.push(...rb.flush());
        const got = seqs(out);
        for (let k = 1; k < got.length; k++) assert.ok(seqDelta(got[k - 1]!, got[k]!) > 0, 'strictly increasing');
        assert.equal(new Set(got).size, got.length);
        if (dropSet.size === 0) {
          // everything within reach arrives (the first packet sets the base)
          assert.ok(got.length <= count);
        }
        assert.ok(got.length + rb.stats.lost >= 1);
      },
    ),
    { numRuns: 300 },
  );
});
