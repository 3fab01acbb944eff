/**
 * RTMP chunk writer: splits a message into chunks without copying its body.
 *
 * Spec: RTMP 1.0 §5.3.1. The first chunk of every message has a type-0 header and the others
 * type 3 (with the extended timestamp repeated, as Flash does), so the bytes of a message
 * never depend on what was sent before on the connection: a frame chunked once can be written
 * to every viewer of a stream. That costs 11 bytes per message over type-1/2 deltas.
 */
import type { FeedKey } from '../../core/sink';
import type { OutgoingMessage } from './message';

export const MAX_CSID = 65599;
const TS_MOD = 2 ** 32;

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(out: Buffer, fmt: number, csid: number): number {
  if (csid < 64) {
    out[0] = (fmt << 6) | csid;
    return 1;
  }
  if (csid < 320) {
    out[0] = fmt << 6;
    out[1] = csid - 64;
    return 2;
  }
  out[0] = (fmt << 6) | 1;
  out[1] = (csid - 64) & 0xff;
  out[2] = (csid - 64) >> 8;
  return 3;
}

function checkMessage(msg: OutgoingMessage, chunkSize: number, length: number): void {
  if (!Number.isInteger(msg.chunkStreamId) || msg.chunkStreamId < 2 || msg.chunkStreamId > MAX_CSID) {
    throw new RangeError(`RTMP chunk stream id ${msg.chunkStreamId} out of range`);
  }
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 0x7fffffff) {
    throw new RangeError(`RTMP chunk size ${chunkSize} out of range`);
  }
  if (length > 0xffffff) throw new RangeError(`RTMP message of ${length} bytes is over 16 MiB`);
}

/** The type-0 header of a message (with the extended timestamp when needed). */
export function type0Header(msg: OutgoingMessage, length: number): Buffer {
  const timestamp = ((Math.round(msg.timestamp) % TS_MOD) + TS_MOD) % TS_MOD;
  const extended = timestamp >= 0xffffff;
  const basic = basicHeaderSize(msg.chunkStreamId);
  const header = Buffer.allocUnsafe(basic + 11 + (extended ? 4 : 0));
  let p = writeBasicHeader(header, 0, msg.chunkStreamId);
  p = header.writeUIntBE(extended ? 0xffffff : timestamp, p, 3);
  p = header.writeUIntBE(length, p, 3);
  p = header.writeUInt8(msg.typeId, p);
  p = header.writeUInt32LE(msg.streamId >>> 0, p);
  if (extended) header.writeUInt32BE(timestamp, p);
  return header;
}

/** The type-3 header for the continuation chunks of a message. */
function type3Header(msg: OutgoingMessage): Buffer {
  const timestamp = ((Math.round(msg.timestamp) % TS_MOD) + TS_MOD) % TS_MOD;
  const extended = timestamp >= 0xffffff;
  const header = Buffer.allocUnsafe(basicHeaderSize(msg.chunkStreamId) + (extended ? 4 : 0));
  const p = writeBasicHeader(header, 3, msg.chunkStreamId);
  if (extended) header.writeUInt32BE(timestamp, p);
  return header;
}

/**
 * Chunks one message: header Buffers interleaved with subarrays of `msg.body` (which is
 * never copied, so the result keeps the body Buffers alive). All continuation headers are
 * the same Buffer. Throws RangeError on an out-of-range chunk stream id, chunk size or
 * a body over 16 MiB (programming errors).
 */
export function chunkMessage(msg: OutgoingMessage, chunkSize: number): Buffer[] {
  let length = 0;
  for (const part of msg.body) length += part.length;
  checkMessage(msg, chunkSize, length);
  const out: Buffer[] = [type0Header(msg, length)];
  if (length <= chunkSize) {
    for (const part of msg.body) if (part.length > 0) out.push(part);
    return out;
  }
  const continuation = type3Header(msg);
  let room = chunkSize;
  for (const part of msg.body) {
    let offset = 0;
    while (offset < part.length) {
      if (room === 0) {
        out.push(continuation);
        room = chunkSize;
      }
      const take = Math.min(room, part.length - offset);
      out.push(take === part.length ? part : part.subarray(offset, offset + take));
      offset += take;
      room -= take;
    }
  }
  return out;
}

/** Total bytes of a list of Buffers (what one writev will send). */
export function byteLengthOf(buffers: readonly Buffer[]): number {
  let total = 0;
  for (const b of buffers) total += b.length;
  return total;
}

/**
 * Chunked messages shared by the RTMP viewers of one stream: each (frame, variant) is chunked
 * once. Keyed weakly by the frame (or track) object, so entries live exactly as long as the
 * hub keeps the frame (GOP cache); `variant` separates output settings (chunk size, message
 * stream id, HEVC signalling) that change the bytes.
 */
export class ChunkMemo {
  /** The stream's memo, leased by each RTMP player (hub rule 9). */
  static readonly FEED: FeedKey<ChunkMemo> = { name: 'rtmp-chunks', create: () => new ChunkMemo() };

  private readonly variants = new Map<string, ChunkVariant>();

  /** The chunks of one variant, keyed by frame: a player looks it up once, at start. */
  variant(variant: string): ChunkVariant {
    let chunks = this.variants.get(variant);
    if (!chunks) {
      chunks = new ChunkVariant();
      this.variants.set(variant, chunks);
    }
    return chunks;
  }
}

/** The chunked frames of one variant of a stream, shared by its players. */
export class ChunkVariant {
  private readonly byKey = new WeakMap<object, Buffer[]>();
  private lastKey: object | undefined;
  private lastChunks: Buffer[] = [];

  /** The chunks of the key asked for last, if `key` is that one: players ask for each frame in turn, so all but the first find it here. */
  last(key: object): Buffer[] | undefined {
    return key === this.lastKey ? this.lastChunks : undefined;
  }

  get(key: object, build: () => Buffer[]): Buffer[] {
    let chunks = this.last(key) ?? this.byKey.get(key);
    if (!chunks) {
      chunks = build();
      this.byKey.set(key, chunks);
    }
    this.lastKey = key;
    this.lastChunks = chunks;
    return chunks;
  }
}
