/**
 * Incremental RTMP chunk stream reader: TCP chunks in, complete messages out.
 *
 * Spec: RTMP 1.0 §5.3.1 (chunk format: basic header §5.3.1.1, message header types 0-3
 * §5.3.1.2, extended timestamp §5.3.1.3), §5.4.1 (Set Chunk Size), §5.4.2 (Abort).
 *
 * Extended timestamps on type-3 chunks: Flash, librtmp, OBS and current ffmpeg repeat the
 * 4-byte field on every type-3 chunk of a chunk stream whose last type 0/1/2 header carried
 * one; some older encoders do not. The first such chunk of a connection decides: if its next
 * 4 bytes equal the stored extended value they are the field (the client repeats), otherwise
 * they are payload (it does not), and the reader keeps that behaviour for the connection.
 *
 * Head-only mode (`mediaHeadBytes`), for load clients that play many streams: audio and video
 * messages are not assembled. Each is handed out as soon as its first bytes are in, with only
 * those as its body (a view of the input, valid until the next feed; a copy when the head is
 * split across reads), and the rest of its payload is skipped without being copied.
 *
 * Memory of media bodies: a reader outside the shared budget (an admitted publisher, a pull
 * client) carves its audio/video/aggregate bodies of up to 32 KiB from a slab of 256 KiB, one
 * after the other, and never writes a slab's bytes twice: a body handed out (and the frames
 * made of its subarrays, which the hub keeps in its GOP cache and slow viewers' queues) is never
 * overwritten. A full slab is left to the garbage collector, which frees it with the last frame
 * that points into it. One allocation per 256 KiB instead of one ArrayBuffer per video frame
 * (issue 16: ArrayBuffer churn and old-generation growth made GC a quarter of ingest CPU).
 */
import { takeOrThrow, type ByteBudget } from '../../core/budget';
import { ParseError, parseAssert } from '../../core/errors';
import { MessageType, type RtmpMessage } from './message';

export const DEFAULT_CHUNK_SIZE = 128;

export interface ChunkReaderLimits {
  /** Largest message body accepted. Default 8 MiB. */
  maxMessageBytes?: number;
  /** Largest chunk size a peer may set. Default 16 MiB. */
  maxChunkSize?: number;
  /** Most chunk streams one connection may use. Default 64. */
  maxChunkStreams?: number;
  /** Most bytes of partly received messages, summed over chunk streams. Default 16 MiB. */
  maxPendingBytes?: number;
  /** Shared by every connection: the buffers of unfinished messages are taken from it. */
  budget?: ByteBudget;
  /** Head-only mode: audio/video messages carry only this many first body bytes (see above). */
  mediaHeadBytes?: number;
}

/** A budgeted message body starts this large (or the message's length) and doubles as bytes come. */
const FIRST_BODY_BYTES = 64 * 1024;
/** Media bodies outside the budget are carved from slabs of this size (see above). */
const SLAB_BYTES = 256 * 1024;
/** Larger media bodies get a buffer of their own, so a slab's unused tail stays small. */
const MAX_SLAB_BODY = 32 * 1024;

/** Basic header (3) + type-0 message header (11) + extended timestamp (4). */
const MAX_HEADER = 18;
const TS_MOD = 2 ** 32;

interface ChunkStreamState {
  timestamp: number;
  /** The raw timestamp field of the last type 0/1/2 header (a delta, or absolute for type 0). */
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  /** The last type 0/1/2 header carried an extended timestamp (this value). */
  extended: number | undefined;
  /** The message in progress, or undefined between messages. */
  body: Buffer | undefined;
  received: number;
  /** Head-only mode: a media message in progress whose payload is skipped once its head is out. */
  skipping: boolean;
  /** Its head when split across reads. */
  head: Buffer | undefined;
}

/** One chunk header as parsed; the reader reuses one such object for every chunk. */
interface ParsedHeader {
  size: number;
  fmt: number;
  csid: number;
  /** Raw timestamp or delta field (extended value when present). */
  field: number;
  extended: boolean;
  length: number;
  typeId: number;
  streamId: number;
  /** The chunk stream's state, undefined for a new chunk stream. */
  state: ChunkStreamState | undefined;
}

export class ChunkReader {
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, ChunkStreamState>();
  private readonly stash = Buffer.alloc(MAX_HEADER);
  private stashLength = 0;
  private readonly header: ParsedHeader = { size: 0, fmt: 0, csid: 0, field: 0, extended: false, length: 0, typeId: 0, streamId: 0, state: undefined };
  /** Outside the budget: the slab media bodies are carved from, and how much of it is handed out. */
  private slab: Buffer | undefined;
  private slabUsed = 0;
  /** Chunk stream whose chunk payload is being read, and the bytes left in that chunk. */
  private current: ChunkStreamState | undefined;
  private currentCsid = 0;
  private chunkLeft = 0;
  private pendingBytes = 0;
  private extRepeats: boolean | undefined;
  private readonly maxMessageBytes: number;
  private readonly maxChunkSize: number;
  private readonly maxChunkStreams: number;
  private readonly maxPendingBytes: number;
  private readonly mediaHeadBytes: number | undefined;
  private budget: ByteBudget | undefined;
  /** Bytes this reader holds from the budget. */
  private taken = 0;
  /** Total bytes fed, for acknowledgements (Spec: RTMP 1.0 §5.4.3). */
  bytesIn = 0;

  constructor(limits: ChunkReaderLimits = {}) {
    this.maxMessageBytes = limits.maxMessageBytes ?? 8 * 1024 * 1024;
    this.maxChunkSize = limits.maxChunkSize ?? 16 * 1024 * 1024;
    this.maxChunkStreams = limits.maxChunkStreams ?? 64;
    this.maxPendingBytes = limits.maxPendingBytes ?? 16 * 1024 * 1024;
    this.budget = limits.budget;
    this.mediaHeadBytes = limits.mediaHeadBytes;
  }

  /** Gives the buffers of unfinished messages back to the budget (the connection closed). Idempotent. */
  release(): void {
    for (const state of this.streams.values()) this.dropBody(state);
  }

  /** Whether buffers still come from the shared budget. */
  get budgeted(): boolean {
    return this.budget !== undefined;
  }

  /**
   * An admitted publisher's frames no longer count against the shared budget (its own caps
   * still hold): peers that never got in cannot starve the cameras of memory.
   */
  leaveBudget(): void {
    this.budget?.give(this.taken);
    this.taken = 0;
    this.budget = undefined;
  }

  /** The peer's current chunk size. */
  get inChunkSize(): number {
    return this.chunkSize;
  }

  /**
   * Consumes a TCP chunk; returns the messages it completed, in order. Set Chunk Size and
   * Abort are applied here (before the following bytes are read) and also returned. Message
   * bodies are copies: the input chunk is not kept. Throws ParseError on invalid input, after
   * which the reader must be discarded.
   */
  feed(chunk: Buffer): RtmpMessage[] {
    this.bytesIn += chunk.length;
    const out: RtmpMessage[] = [];
    this.consume(chunk, out);
    return out;
  }

  private consume(chunk: Buffer, out: RtmpMessage[]): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.current) {
        pos = this.readPayload(chunk, pos, out);
        continue;
      }
      if (this.stashLength === 0) {
        const header = this.parseHeader(chunk, pos, chunk.length);
        if (!header) {
          this.stashLength = chunk.copy(this.stash, 0, pos);
          return;
        }
        this.applyHeader(header, out);
        pos += header.size;
        continue;
      }
      // A header split across TCP chunks: complete it in the stash.
      const before = this.stashLength;
      const copied = chunk.copy(this.stash, before, pos, pos + MAX_HEADER - before);
      const header = this.parseHeader(this.stash, 0, before + copied);
      if (!header) {
        this.stashLength += copied;
        return;
      }
      this.stashLength = 0;
      this.applyHeader(header, out);
      if (header.size < before) {
        // Only after the one-time extended-timestamp peek said "payload": replay those bytes.
        this.consume(Buffer.concat([this.stash.subarray(header.size, before), chunk.subarray(pos)]), out);
        return;
      }
      pos += header.size - before;
    }
  }

  /** Parses one chunk header at `pos` into `this.header` without changing any other state; undefined if incomplete. */
  private parseHeader(buf: Buffer, pos: number, end: number): ParsedHeader | undefined {
    if (end - pos < 1) return undefined;
    const fmt = buf[pos]! >> 6;
    let csid = buf[pos]! & 0x3f;
    let size = 1;
    if (csid === 0) {
      if (end - pos < 2) return undefined;
      csid = 64 + buf[pos + 1]!;
      size = 2;
    } else if (csid === 1) {
      if (end - pos < 3) return undefined;
      csid = 64 + buf[pos + 1]! + buf[pos + 2]! * 256;
      size = 3;
    }
    const state = this.streams.get(csid);
    const header = this.header;
    header.size = size;
    header.fmt = fmt;
    header.csid = csid;
    header.field = 0;
    header.extended = false;
    header.state = state;
    if (fmt === 3) return this.parseType3(buf, pos, end, header, state);
    parseAssert(fmt === 0 || state, `RTMP chunk: type ${fmt} header on new chunk stream ${csid}`);
    parseAssert(!state?.body && !state?.skipping, `RTMP chunk: type ${fmt} header inside a message on chunk stream ${csid}`);
    const fieldsSize = fmt === 0 ? 11 : fmt === 1 ? 7 : 3;
    if (end - pos < size + fieldsSize) return undefined;
    const p = pos + size;
    header.field = buf.readUIntBE(p, 3);
    header.length = fmt <= 1 ? buf.readUIntBE(p + 3, 3) : state!.length;
    header.typeId = fmt <= 1 ? buf[p + 6]! : state!.typeId;
    header.streamId = fmt === 0 ? buf.readUInt32LE(p + 7) : state!.streamId;
    header.size += fieldsSize;
    if (header.field === 0xffffff) {
      if (end - pos < header.size + 4) return undefined;
      header.field = buf.readUInt32BE(pos + header.size);
      header.extended = true;
      header.size += 4;
    }
    return header;
  }

  private parseType3(buf: Buffer, pos: number, end: number, header: ParsedHeader, state: ChunkStreamState | undefined): ParsedHeader | undefined {
    parseAssert(state, `RTMP chunk: type 3 header on new chunk stream ${header.csid}`);
    header.length = state.length;
    header.typeId = state.typeId;
    header.streamId = state.streamId;
    header.field = state.delta;
    if (state.extended === undefined || this.extRepeats === false) return header;
    if (end - pos < header.size + 4) return undefined;
    if (this.extRepeats === true || buf.readUInt32BE(pos + header.size) === state.extended) {
      header.extended = true;
      header.size += 4;
    }
    return header;
  }

  private applyHeader(header: ParsedHeader, out: RtmpMessage[]): void {
    let state = header.state;
    if (!state) {
      parseAssert(this.streams.size < this.maxChunkStreams, `RTMP chunk: more than ${this.maxChunkStreams} chunk streams`);
      state = { timestamp: 0, delta: 0, length: 0, typeId: 0, streamId: 0, extended: undefined, body: undefined, received: 0, skipping: false, head: undefined };
      this.streams.set(header.csid, state);
    }
    if (header.fmt === 3) {
      if (state.extended !== undefined && this.extRepeats === undefined) this.extRepeats = header.extended;
    } else {
      state.delta = header.field;
      state.extended = header.extended ? header.field : undefined;
      state.length = header.length;
      state.typeId = header.typeId;
      state.streamId = header.streamId;
    }
    if (!state.body && !state.skipping) this.startMessage(header, state, out);
    this.current = state.body || state.skipping ? state : undefined;
    this.currentCsid = header.csid;
    this.chunkLeft = Math.min(this.chunkSize, state.length - state.received);
  }

  private startMessage(header: ParsedHeader, state: ChunkStreamState, out: RtmpMessage[]): void {
    state.timestamp = header.fmt === 0 ? header.field : (state.timestamp + state.delta) % TS_MOD;
    parseAssert(state.length <= this.maxMessageBytes, `RTMP chunk: message of ${state.length} bytes over the cap`);
    parseAssert(this.pendingBytes + state.length <= this.maxPendingBytes, 'RTMP chunk: too many bytes of unfinished messages');
    state.received = 0;
    if (state.length === 0) {
      this.complete(header.csid, state, Buffer.alloc(0), out);
      return;
    }
    const media = state.typeId === MessageType.audio || state.typeId === MessageType.video;
    if (this.mediaHeadBytes !== undefined && media) {
      state.skipping = true;
      return;
    }
    if (this.budget) state.body = this.allocate(Math.min(state.length, FIRST_BODY_BYTES));
    else state.body = media || state.typeId === MessageType.aggregate ? this.carve(state.length) : Buffer.allocUnsafe(state.length);
    this.pendingBytes += state.length;
  }

  /**
   * A media body of `length` outside the budget: the next bytes of the slab, never handed out
   * before (bounded by maxMessageBytes and maxPendingBytes like any unfinished message).
   */
  private carve(length: number): Buffer {
    if (length > MAX_SLAB_BODY) return Buffer.allocUnsafeSlow(length);
    if (!this.slab || this.slab.length - this.slabUsed < length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.slabUsed = 0;
    }
    const body = this.slab.subarray(this.slabUsed, this.slabUsed + length);
    this.slabUsed += length;
    return body;
  }

  /** A body buffer of `bytes`, taken from the shared budget. */
  private allocate(bytes: number): Buffer {
    takeOrThrow(this.budget, bytes, 'RTMP: unfinished messages');
    if (this.budget) this.taken += bytes;
    return Buffer.allocUnsafe(bytes);
  }

  private giveBack(bytes: number): void {
    if (!this.budget) return;
    this.budget.give(bytes);
    this.taken -= bytes;
  }

  /** Grows the body of `state` so that `needed` bytes fit (never past the message length). */
  private grow(state: ChunkStreamState, needed: number): void {
    const old = state.body!;
    const next = this.allocate(Math.min(state.length, Math.max(old.length * 2, needed)));
    old.copy(next, 0, 0, state.received);
    this.giveBack(old.length);
    state.body = next;
  }

  private dropBody(state: ChunkStreamState): void {
    state.skipping = false;
    state.head = undefined;
    if (!state.body) return;
    this.giveBack(state.body.length);
    this.pendingBytes -= state.length;
    state.body = undefined;
    state.received = 0;
  }

  private readPayload(chunk: Buffer, pos: number, out: RtmpMessage[]): number {
    const state = this.current!;
    const take = Math.min(this.chunkLeft, chunk.length - pos);
    if (state.skipping) return this.skipPayload(state, chunk, pos, take, out);
    if (state.received + take > state.body!.length) this.grow(state, state.received + take);
    chunk.copy(state.body!, state.received, pos, pos + take);
    state.received += take;
    this.chunkLeft -= take;
    if (state.received === state.length) {
      const body = state.body!;
      state.body = undefined;
      this.giveBack(body.length);
      this.pendingBytes -= state.length;
      this.current = undefined;
      this.complete(this.currentCsid, state, body, out);
    } else if (this.chunkLeft === 0) {
      this.current = undefined;
    }
    return pos + take;
  }

  /** Head-only mode: hands the message out once its head is in, then only counts its bytes. */
  private skipPayload(state: ChunkStreamState, chunk: Buffer, pos: number, take: number, out: RtmpMessage[]): number {
    const headLength = Math.min(this.mediaHeadBytes!, state.length);
    if (state.received < headLength) {
      const wanted = headLength - state.received;
      if (state.received === 0 && take >= wanted) {
        this.complete(this.currentCsid, state, chunk.subarray(pos, pos + wanted), out);
      } else {
        state.head ??= Buffer.allocUnsafe(headLength);
        chunk.copy(state.head, state.received, pos, pos + Math.min(take, wanted));
        if (take >= wanted) {
          this.complete(this.currentCsid, state, state.head, out);
          state.head = undefined;
        }
      }
    }
    state.received += take;
    this.chunkLeft -= take;
    if (state.received === state.length) {
      state.skipping = false;
      state.received = 0;
      this.current = undefined;
    } else if (this.chunkLeft === 0) {
      this.current = undefined;
    }
    return pos + take;
  }

  private complete(csid: number, state: ChunkStreamState, body: Buffer, out: RtmpMessage[]): void {
    const message: RtmpMessage = {
      chunkStreamId: csid,
      typeId: state.typeId,
      streamId: state.streamId,
      timestamp: state.timestamp,
      body,
    };
    if (state.typeId === MessageType.setChunkSize) this.setChunkSize(body);
    else if (state.typeId === MessageType.abort) this.abort(body);
    out.push(message);
  }

  /** Spec: RTMP 1.0 §5.4.1: 31 bits, 1..0x7FFFFFFF; we refuse more than maxChunkSize. */
  private setChunkSize(body: Buffer): void {
    parseAssert(body.length >= 4, 'RTMP: short Set Chunk Size');
    const size = body.readUInt32BE(0) & 0x7fffffff;
    parseAssert(size >= 1, 'RTMP: Set Chunk Size 0');
    if (size > this.maxChunkSize) throw new ParseError(`RTMP: Set Chunk Size ${size} over the cap`);
    this.chunkSize = size;
  }

  /** Spec: RTMP 1.0 §5.4.2: drop the partly received message of a chunk stream. */
  private abort(body: Buffer): void {
    parseAssert(body.length >= 4, 'RTMP: short Abort');
    const state = this.streams.get(body.readUInt32BE(0));
    if (state) this.dropBody(state);
  }
}
