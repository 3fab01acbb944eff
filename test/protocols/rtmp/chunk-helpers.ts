/**
 * A reference chunk encoder for the reader tests: unlike our writer it compresses headers
 * (type 1/2/3 deltas, as ffmpeg and OBS do) and can leave the extended timestamp out of
 * type-3 chunks (as some older encoders do).
 */
import fc from 'fast-check';

export interface TestMessage {
  chunkStreamId: number;
  typeId: number;
  streamId: number;
  timestamp: number;
  body: Buffer;
}

export interface EncodeOptions {
  /** Use type 1/2/3 headers when the previous message on the chunk stream allows. */
  compress?: boolean;
  /** Repeat the extended timestamp on type-3 chunks (default true). */
  repeatExtended?: boolean;
}

function basic(fmt: number, csid: number): Buffer {
  if (csid < 64) return Buffer.from([(fmt << 6) | csid]);
  if (csid < 320) return Buffer.from([fmt << 6, csid - 64]);
  return Buffer.from([(fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8]);
}

function u24(v: number): number[] {
  return [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

function u32be(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

interface Prev {
  timestamp: number;
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
}

/** Encodes messages (in order, no interleaving) with the given incoming chunk size. */
export function encodeChunks(messages: TestMessage[], chunkSize: number, options: EncodeOptions = {}): Buffer {
  const prev = new Map<number, Prev>();
  const out: Buffer[] = [];
  for (const m of messages) {
    const p = prev.get(m.chunkStreamId);
    const delta = p ? (m.timestamp - p.timestamp + 2 ** 32) % 2 ** 32 : 0;
    let fmt = 0;
    if (options.compress && p && m.streamId === p.streamId) {
      if (m.typeId !== p.typeId || m.body.length !== p.length) fmt = 1;
      else if (delta !== p.delta) fmt = 2;
      else fmt = 3; // a type 3 re-adds the last delta (after a type 0: its absolute timestamp)
    }
    const field = fmt === 0 ? m.timestamp : delta;
    const extended = fmt === 3 ? p!.delta >= 0xffffff : field >= 0xffffff;
    const extValue = fmt === 3 ? p!.delta : field;
    const head: number[] = [];
    if (fmt <= 2) head.push(...u24(extended ? 0xffffff : field));
    if (fmt <= 1) head.push(...u24(m.body.length), m.typeId);
    const parts = [basic(fmt, m.chunkStreamId), Buffer.from(head)];
    if (fmt === 0) {
      const sid = Buffer.alloc(4);
      sid.writeUInt32LE(m.streamId);
      parts.push(sid);
    }
    if (extended && (fmt !== 3 || options.repeatExtended !== false)) parts.push(u32be(extValue));
    out.push(...parts);
    for (let off = 0; off < m.body.length || off === 0; off += chunkSize) {
      if (off > 0) {
        out.push(basic(3, m.chunkStreamId));
        if (extended && options.repeatExtended !== false) out.push(u32be(extValue));
      }
      out.push(m.body.subarray(off, off + chunkSize));
      if (m.body.length === 0) break;
    }
    prev.set(m.chunkStreamId, {
      timestamp: m.timestamp,
      delta: fmt === 0 ? m.timestamp : fmt === 3 ? p!.delta : delta,
      length: m.body.length,
      typeId: m.typeId,
      streamId: m.streamId,
    });
  }
  return Buffer.concat(out);
}

/** Splits a buffer at the given cut points (sorted, deduplicated by the caller or not). */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set([0, ...cuts.map((c) => c % (buf.length + 1)), buf.length])].sort((a, b) => a - b);
  return points.slice(1).map((end, i) => buf.subarray(points[i], end));
}

/** Messages with increasing timestamps (steps, sometimes huge), varied chunk streams. */
export const messagesArb = (maxBody = 600): fc.Arbitrary<TestMessage[]> =>
  fc
    .array(
      fc.record({
        chunkStreamId: fc.oneof(fc.integer({ min: 3, max: 8 }), fc.integer({ min: 64, max: 400 }), fc.constant(65599)),
        typeId: fc.constantFrom(8, 9, 18, 20),
        streamId: fc.constantFrom(0, 1),
        step: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0xfffff0, max: 0x1000010 })),
        body: fc.uint8Array({ maxLength: maxBody }).map((a) => Buffer.from(a)),
      }),
      { maxLength: 12 },
    )
    .map((items) => {
      let ts = 0;
      return items.map(({ step, ...rest }) => {
        ts = (ts + step) % 2 ** 32;
        return { ...rest, timestamp: ts };
      });
    });
