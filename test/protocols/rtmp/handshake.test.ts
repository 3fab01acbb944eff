import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FMS_KEY,
  FMS_KEY_SHORT,
  FP_KEY_SHORT,
  HANDSHAKE_SIZE,
  ServerHandshake,
  checkDigestResponse,
  digestOffset,
  findDigestSchema,
  signDigest,
  type DigestSchema,
  type HandshakeProgress,
} from '../../../src/protocols/rtmp/handshake';
import { ParseError } from '../../../src/core/errors';

/** A deterministic byte source, so replies can be compared across splits. */
function seeded(seed: number): (n: number) => Buffer {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };
}

function simpleC1(seed = 1): Buffer {
  const c1 = seeded(seed)(HANDSHAKE_SIZE);
  c1.writeUInt32BE(0, 0);
  c1.writeUInt32BE(0, 4); // zero version: a simple-handshake client
  // Make sure the random bytes do not happen to hold a valid digest (they never do in practice).
  assert.equal(findDigestSchema(c1, FP_KEY_SHORT), undefined);
  return c1;
}

/** A C1 as ffmpeg/librtmp build it: version 9.0.124.2 and a digest with the player key. */
function complexC1(schema: DigestSchema, seed = 7): Buffer {
  const c1 = seeded(seed)(HANDSHAKE_SIZE);
  c1.writeUInt32BE(0, 0);
  c1.writeUInt32BE(0x09007c02, 4);
  signDigest(c1, schema, FP_KEY_SHORT);
  return c1;
}

/** Feeds parts until the handshake is done; the parts after that count as rest. */
function feedAll(hs: ServerHandshake, parts: Buffer[]): { reply: Buffer; rest: Buffer; results: HandshakeProgress[] } {
  const results: HandshakeProgress[] = [];
  const rest: Buffer[] = [];
  for (const p of parts) {
    if (hs.done) {
      rest.push(p);
      continue;
    }
    const r = hs.feed(p);
    results.push(r);
    if (r.rest) rest.push(r.rest);
  }
  const reply = Buffer.concat(results.flatMap((r) => (r.reply ? [...r.reply] : [])));
  return { reply, rest: Buffer.concat(rest), results };
}

describe('RTMP handshake', () => {
  it('answers a simple handshake with S0, S1 and S2 = C1', () => {
    const c1 = simpleC1();
    const hs = new ServerHandshake({ random: seeded(3) });
    const r = hs.feed(Buffer.concat([Buffer.from([3]), c1]));
    assert.equal(r.done, false);
    const reply = Buffer.concat(r.reply!);
    assert.equal(reply.length, 1 + 2 * HANDSHAKE_SIZE);
    assert.equal(reply[0], 3);
    assert.deepEqual(reply.subarray(1 + HANDSHAKE_SIZE), c1);
    assert.equal(hs.mode, 'simple');
    const done = hs.feed(Buffer.concat([reply.subarray(1, 1 + HANDSHAKE_SIZE), Buffer.from([1, 2, 3])]));
    assert.equal(done.done, true);
    assert.deepEqual(done.rest, Buffer.from([1, 2, 3]));
    assert.equal(hs.done, true);
  });

  for (const schema of [0, 1] as const) {
    it(`answers a digest handshake with schema ${schema}`, () => {
      const c1 = complexC1(schema);
      const hs = new ServerHandshake({ random: seeded(5) });
      const { reply } = feedAll(hs, [Buffer.from([3]), c1]);
      assert.equal(hs.mode, 'digest');
      const s1 = reply.subarray(1, 1 + HANDSHAKE_SIZE);
      const s2 = reply.subarray(1 + HANDSHAKE_SIZE);
      assert.notEqual(s1.readUInt32BE(4), 0, 'S1 carries a server version');
      // What ffmpeg checks: S1 holds an FMS digest in the client's schema ...
      assert.equal(findDigestSchema(s1, FMS_KEY_SHORT), schema);
      // ... and S2 is signed with a key derived from the C1 digest.
      const at = digestOffset(c1, schema);
      assert.ok(checkDigestResponse(s2, c1.subarray(at, at + 32), FMS_KEY));
    });
  }

  it('refuses a C0 other than 3 as soon as it arrives', () => {
    assert.throws(() => new ServerHandshake().feed(Buffer.from('GET / HTTP/1.1\r\n')), ParseError);
    assert.throws(() => new ServerHandshake().feed(Buffer.from([6])), ParseError);
  });

  it('refuses to be fed after completion', () => {
    const hs = new ServerHandshake();
    hs.feed(Buffer.concat([Buffer.from([3]), simpleC1(), Buffer.alloc(HANDSHAKE_SIZE)]));
    assert.throws(() => hs.feed(Buffer.from([0])), ParseError);
  });

  it('gives the same reply and rest for any split of the input', () => {
    const input = Buffer.concat([Buffer.from([3]), complexC1(1, 11), Buffer.alloc(HANDSHAKE_SIZE, 9), Buffer.from('tail')]);
    const whole = feedAll(new ServerHandshake({ random: seeded(2), now: () => 0 }), [input]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 8 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), input.length];
        const parts = points.slice(1).map((end, i) => input.subarray(points[i], end));
        const hs = new ServerHandshake({ random: seeded(2), now: () => 0 });
        const split = feedAll(hs, parts);
        assert.deepEqual(split.reply, whole.reply);
        assert.deepEqual(split.rest, Buffer.from('tail'));
        assert.equal(split.results.filter((r) => r.done).length, 1);
        assert.ok(split.results.at(-1)!.done);
      }),
      { numRuns: 100 },
    );
  });

  it('random input only ever throws ParseError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 4 }), fc.boolean(), (parts, v3) => {
        const hs = new ServerHandshake();
        try {
          if (v3) hs.feed(Buffer.from([3]));
          for (const p of parts) if (!hs.done) hs.feed(Buffer.from(p));
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      { numRuns: 200 },
    );
  });
});
