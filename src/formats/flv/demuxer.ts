import { ParseError } from '../../core/errors';
import { FLV_HEADER_SIZE, FLV_PREVIOUS_TAG_SIZE_SIZE, FLV_TAG_AUDIO, FLV_TAG_HEADER_SIZE, FLV_TAG_SCRIPT, FLV_TAG_VIDEO, type FlvTagType } from './tag';

export interface FlvTag {
  readonly type: FlvTagType;
  /** Timestamp | TimestampExtended << 24, in ms. */
  readonly timestampMs: number;
  /** The tag body: a subarray of a fed chunk, or of a copy when the tag crossed chunks. */
  readonly body: Buffer;
}

export interface FlvDemuxerOptions {
  /** Largest tag body accepted (default 8 MiB: a 4K keyframe is a few MB). */
  readonly maxTagSize?: number;
  /** Check every PreviousTagSize against the tag before it (default true). */
  readonly checkPreviousTagSize?: boolean;
}

export const FLV_DEFAULT_MAX_TAG_SIZE = 8 * 1024 * 1024;
/** The header's DataOffset is 9 in FLV version 1; leave room for a future longer header. */
const MAX_HEADER_SIZE = 1024;

type State = 'header' | 'header-padding' | 'first-previous-size' | 'tag-header' | 'tag-body' | 'failed';

/**
 * Incremental FLV file/stream demuxer (HTTP-FLV pulls, WebSocket-FLV publishing, recordings):
 * feed any chunks, get whole tags back. Checks the signature, every PreviousTagSize and the tag
 * size cap; bad input throws a ParseError (tags completed earlier in the same call are lost with
 * it), after which every feed throws. Tags of unknown types
 * and encrypted (Filter) tags are skipped. Keeps references to the fed chunks (tag bodies are
 * subarrays of them), copying only a tag that crosses chunk boundaries.
 * Spec: Adobe FLV File Format Specification v10.1 §E.2, §E.3, §E.4.1.
 */
export class FlvDemuxer {
  /** Whether the FLV header announced audio / video (undefined before the header). */
  hasAudio: boolean | undefined;
  hasVideo: boolean | undefined;
  private readonly chunks: Buffer[] = [];
  /** Index of the first unconsumed chunk (avoids shift() per tag). */
  private first = 0;
  private buffered = 0;
  private state: State = 'header';
  private need = FLV_HEADER_SIZE;
  private readonly maxTagSize: number;
  private readonly checkPrevious: boolean;
  private tagType = 0;
  private tagTimestamp = 0;
  private tagSize = 0;
  private lastTagSize = 0;

  constructor(options: FlvDemuxerOptions = {}) {
    this.maxTagSize = options.maxTagSize ?? FLV_DEFAULT_MAX_TAG_SIZE;
    this.checkPrevious = options.checkPreviousTagSize ?? true;
  }

  feed(chunk: Buffer): FlvTag[] {
    if (this.state === 'failed') throw new ParseError('FLV demuxer failed earlier');
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const tags: FlvTag[] = [];
    try {
      while (this.buffered >= this.need) {
        const tag = this.step(this.take(this.need));
        if (tag) tags.push(tag);
      }
    } catch (err) {
      this.state = 'failed';
      this.chunks.length = 0;
      this.first = 0;
      this.buffered = 0;
      throw err;
    }
    return tags;
  }

  /** Bytes held that do not make a whole tag yet. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private step(data: Buffer): FlvTag | undefined {
    switch (this.state) {
      case 'header':
        this.readHeader(data);
        return undefined;
      case 'header-padding':
        this.state = 'first-previous-size';
        this.need = FLV_PREVIOUS_TAG_SIZE_SIZE;
        return undefined;
      case 'first-previous-size':
        this.checkPreviousSize(data.readUInt32BE(0));
        this.toTagHeader();
        return undefined;
      case 'tag-header':
        this.readTagHeader(data);
        return undefined;
      case 'tag-body':
        return this.readTagBody(data);
      case 'failed':
        throw new ParseError('FLV demuxer failed earlier');
    }
  }

  private readHeader(data: Buffer): void {
    if (data.toString('latin1', 0, 3) !== 'FLV') throw new ParseError('not an FLV stream: no "FLV" signature');
    if (data[3] !== 1) throw new ParseError(`FLV version ${data[3]} is not 1`);
    this.hasAudio = (data[4]! & 0x04) !== 0;
    this.hasVideo = (data[4]! & 0x01) !== 0;
    const offset = data.readUInt32BE(5);
    if (offset < FLV_HEADER_SIZE || offset > MAX_HEADER_SIZE) throw new ParseError(`FLV DataOffset ${offset} is out of range`);
    this.state = offset > FLV_HEADER_SIZE ? 'header-padding' : 'first-previous-size';
    this.need = offset > FLV_HEADER_SIZE ? offset - FLV_HEADER_SIZE : FLV_PREVIOUS_TAG_SIZE_SIZE;
  }

  private readTagHeader(data: Buffer): void {
    const first = data[0]!;
    if ((first & 0xc0) !== 0) throw new ParseError(`FLV tag reserved bits set (0x${first.toString(16)})`);
    this.tagType = first; // Filter bit and type; unknown and filtered tags are skipped below
    this.tagSize = data.readUIntBE(1, 3);
    this.tagTimestamp = (data.readUIntBE(4, 3) | (data[7]! << 24)) >>> 0;
    if (this.tagSize > this.maxTagSize) throw new ParseError(`FLV tag of ${this.tagSize} bytes exceeds the ${this.maxTagSize}-byte cap`);
    this.state = 'tag-body';
    this.need = this.tagSize + FLV_PREVIOUS_TAG_SIZE_SIZE;
  }

  private readTagBody(data: Buffer): FlvTag | undefined {
    this.lastTagSize = FLV_TAG_HEADER_SIZE + this.tagSize;
    this.checkPreviousSize(data.readUInt32BE(this.tagSize));
    this.toTagHeader();
    const type = this.tagType;
    if (type !== FLV_TAG_AUDIO && type !== FLV_TAG_VIDEO && type !== FLV_TAG_SCRIPT) return undefined;
    return { type, timestampMs: this.tagTimestamp, body: data.subarray(0, this.tagSize) };
  }

  private checkPreviousSize(value: number): void {
    if (this.checkPrevious && value !== this.lastTagSize) {
      throw new ParseError(`FLV PreviousTagSize ${value} does not match the previous tag (${this.lastTagSize})`);
    }
  }

  private toTagHeader(): void {
    this.state = 'tag-header';
    this.need = FLV_TAG_HEADER_SIZE;
  }

  /** Removes the first `n` buffered bytes: a subarray when one chunk holds them, else a copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const head = this.chunks[this.first]!;
    if (head.length >= n) {
      this.consume(head, n);
      return head.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.first]!;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      this.consume(chunk, used);
    }
    return out;
  }

  private consume(chunk: Buffer, used: number): void {
    if (used < chunk.length) {
      this.chunks[this.first] = chunk.subarray(used);
      return;
    }
    this.first++;
    if (this.first === this.chunks.length) {
      this.chunks.length = 0;
      this.first = 0;
    } else if (this.first >= 64 && this.first * 2 >= this.chunks.length) {
      this.chunks.splice(0, this.first);
      this.first = 0;
    }
  }
}
