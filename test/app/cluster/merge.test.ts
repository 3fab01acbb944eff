import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergeSessions, mergeStreams, parsePrefixedId, prefixedId } from '../../../src/app/cluster/merge';
import type { StreamSnapshot } from '../../../src/hub/stream';

function snapshot(path: string, kind: string | null, byProtocol: Record<string, number>): StreamSnapshot {
  const subscribers = Object.entries(byProtocol).flatMap(([protocol, n]) =>
    Array.from({ length: n }, (_, i) => ({ id: `sub-${protocol}-${i}`, protocol, since: 0, bytesOut: 10, framesOut: 1, framesDropped: 0, lagging: false })),
  );
  const total = Object.values(byProtocol).reduce((a, b) => a + b, 0);
  return {
    path,
    state: 'live',
    ready: true,
    tracks: [],
    publisher: kind ? { id: 'pub-1', kind, since: 0 } : null,
    readers: { total, byProtocol },
    bytesIn: 100,
    bytesOut: 10 * total,
    bitrateInKbps: 2000,
    bitrateOutKbps: 2000 * total,
    framesIn: 1,
    framesDropped: 0,
    uptimeMs: 1,
    gopCache: { frames: 0, bytes: 0 },
    subscribers,
  } as StreamSnapshot;
}

test('a stream on two workers: the origin publisher, readers summed, the internal pull left out, ids prefixed', () => {
  const [merged] = mergeStreams([
    { slot: 2, items: [snapshot('live/cam', 'cluster', { 'http-flv': 3, rtmp: 1 })] },
    { slot: 1, items: [snapshot('live/cam', 'rtmp', { 'http-flv': 2, cluster: 1 })] },
  ]);
  assert.equal(merged!.publisher?.kind, 'rtmp');
  assert.equal(merged!.publisher?.id, 'w1.pub-1');
  assert.deepEqual(merged!.readers, { total: 6, byProtocol: { 'http-flv': 5, rtmp: 1 } });
  assert.equal(merged!.subscribers.length, 6);
  assert.ok(merged!.subscribers.every((s) => /^w[12]\./.test(s.id)));
  assert.equal(merged!.bytesIn, 100, 'bytes in once, from the origin');
});

test("property: merged readers are the sum of every worker's non-internal readers, and prefixed ids parse back", () => {
  const counts = fc.record({ 'http-flv': fc.nat(5), rtmp: fc.nat(5), cluster: fc.nat(2) });
  fc.assert(
    fc.property(fc.array(counts, { minLength: 1, maxLength: 4 }), fc.nat(3), (perWorker, originIndex) => {
      const origin = originIndex % perWorker.length;
      const parts = perWorker.map((c, i) => ({ slot: i + 1, items: [snapshot('a/b', i === origin ? 'rtmp' : 'cluster', c)] }));
      const [merged] = mergeStreams(parts);
      const expected = perWorker.reduce((n, c) => n + c['http-flv'] + c.rtmp, 0);
      assert.equal(merged!.readers.total, expected);
      assert.equal(merged!.subscribers.length, expected);
      assert.equal(merged!.publisher?.kind, 'rtmp');
      for (const s of merged!.subscribers) assert.ok(parsePrefixedId(s.id));
    }),
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 999 }), fc.string({ minLength: 1 }), (slot, id) => assert.deepEqual(parsePrefixedId(prefixedId(slot, id)), { slot, id })));
  assert.equal(parsePrefixedId('sub-1'), undefined);
});

test('sessions: internal pulls left out, ids prefixed by worker', () => {
  const base = { role: 'subscriber' as const, path: 'a/b', since: 0, bytes: 0 };
  const merged = mergeSessions([
    {
      slot: 1,
      items: [
        { ...base, id: 'sub-1', protocol: 'cluster' },
        { ...base, id: 'sub-2', protocol: 'rtmp' },
      ],
    },
    { slot: 2, items: [{ ...base, id: 'sub-1', protocol: 'http-flv' }] },
  ]);
  assert.deepEqual(
    merged.map((s) => s.id),
    ['w1.sub-2', 'w2.sub-1'],
  );
});
