import { ParseError, parseAssert } from '../../src/core/errors';
import { STREAM_TYPE } from '../../src/formats/mpegts/constants';
import { pesStart, type EsKind, type EsSink, type EsStreamDecl } from '../../src/formats/mpegts/es-sink';
import { parsePesHeader } from '../../src/formats/mpegts/pes';
import { parsePsm } from './psm';

/**
 * Streaming MPEG program stream demuxer over the concatenated RTP payloads of a GB28181 stream
 * (packs, PES and frames span RTP packets). Reports PES boundaries and payload to an EsSink.
 *
 * Handles: MPEG-2 pack headers with stuffing and the MPEG-1 variant; system headers; PSM;
 * audio (0xC0-0xDF) and video (0xE0-0xEF) PES, including PES_packet_length 0 (ended by the next
 * start code); other stream ids (0xBD Hikvision private data, 0xBE padding, 0xBF ...) skipped;
 * the Hikvision H.265 truncated pack header (00 00 01 BA 00 00 01 E0); garbage, after which it
 * resynchronises at the next pack header, system header, PSM or valid PES header.
 * Spec: ISO/IEC 13818-1 §2.5 (program stream), GB/T 28181-2016 Annex C.
 *
 * Never throws on bad input: errors are counted and the demuxer resynchronises.
 * Buffers: payload handed to the sink is a subarray of the fed chunk (or of an internal
 * concatenation when a header spans chunks).
 */

export interface PsDemuxerStats {
  packs: number;
  systemHeaders: number;
  psms: number;
  /** Audio/video PES packets handed to the sink. */
  pes: number;
  /** PES of other stream ids (private, padding ...) skipped. */
  skippedPes: number;
  /** PES of streams whose PSM stream type is not supported, skipped (a counted warning). */
  unsupportedPes: number;
  /** Stream types seen in a PSM that we do not carry, by type. */
  unsupportedStreamTypes: Record<number, number>;
  mpeg1Packs: number;
  hikTruncatedPacks: number;
  garbageBytes: number;
  /** Parse errors (bad headers, garbage where a start code should be). */
  errors: number;
}

/** A PSM is at most 1018 bytes after its length field (ISO/IEC 13818-1 §2.5.4.2); leave room. */
const MAX_PSM_LENGTH = 4096;
/** Pending bytes kept between feeds: the largest header we wait for in full. */
const MAX_PENDING = MAX_PSM_LENGTH + 16;

const enum Mode {
  Resync,
  Scan,
  Payload,
  Skip,
}

const SUPPORTED_TYPES = new Set<number>([STREAM_TYPE.H264, STREAM_TYPE.H265, STREAM_TYPE.AAC_ADTS, STREAM_TYPE.AAC_RAW, STREAM_TYPE.G711A, STREAM_TYPE.G711U]);

const START_CODE = Buffer.from([0, 0, 1]);

function isVideoId(id: number): boolean {
  return id >= 0xe0 && id <= 0xef;
}

function isAudioId(id: number): boolean {
  return id >= 0xc0 && id <= 0xdf;
}

/** A start code that ends a PES of unknown length: any system start code (0xB9 and above). */
export function findSystemStartCode(buf: Buffer, from: number): number {
  let i = buf.indexOf(START_CODE, from);
  while (i >= 0 && i + 3 < buf.length) {
    if (buf[i + 3]! >= 0xb9) return i;
    i = buf.indexOf(START_CODE, i + 1);
  }
  return -1;
}

export class PsDemuxer {
  readonly stats: PsDemuxerStats = {
    packs: 0,
    systemHeaders: 0,
    psms: 0,
    pes: 0,
    skippedPes: 0,
    unsupportedPes: 0,
    unsupportedStreamTypes: {},
    mpeg1Packs: 0,
    hikTruncatedPacks: 0,
    garbageBytes: 0,
    errors: 0,
  };
  /** stream_id -> stream_type from the last PSM. */
  private readonly streamTypes = new Map<number, number>();
  private mode = Mode.Resync;
  private pending: Buffer | undefined;
  private remaining = 0;
  private pesId = 0;
  private needMore = false;
  private mpeg1 = false;

  constructor(private readonly sink: EsSink) {}

  /** Feeds the next RTP payload (or any slice of the program stream). */
  feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let offset = 0;
    while (offset < buf.length) {
      this.needMore = false;
      let next: number;
      try {
        next = this.step(buf, offset);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        this.stats.errors++;
        this.enterResync();
        next = offset + 1;
        this.stats.garbageBytes++;
      }
      if (this.needMore) {
        this.keepPending(buf.subarray(next));
        return;
      }
      offset = next;
    }
  }

  /** Data was lost before the next chunk: drop partial state and resynchronise. */
  discontinuity(): void {
    this.pending = undefined;
    this.mode = Mode.Resync;
    this.sink.onDiscontinuity();
  }

  /** Stream type announced by the PSM for a stream id, if any. */
  streamTypeOf(id: number): number | undefined {
    return this.streamTypes.get(id);
  }

  private keepPending(rest: Buffer): void {
    if (rest.length > MAX_PENDING) {
      this.stats.errors++;
      this.stats.garbageBytes += rest.length;
      this.enterResync();
      return;
    }
    if (rest.length > 0) this.pending = rest;
  }

  /** Garbage: whatever PES or access unit was in progress is broken. */
  private enterResync(): void {
    if (this.mode !== Mode.Resync) this.sink.onDiscontinuity();
    this.mode = Mode.Resync;
  }

  /** One parsing step at `offset`; returns the next offset (sets needMore to wait for data). */
  private step(buf: Buffer, offset: number): number {
    switch (this.mode) {
      case Mode.Payload:
        return this.payload(buf, offset);
      case Mode.Skip:
        return this.skip(buf, offset);
      case Mode.Resync:
        return this.resync(buf, offset);
      case Mode.Scan:
        return this.unit(buf, offset);
    }
  }

  private payload(buf: Buffer, offset: number): number {
    if (this.remaining >= 0) {
      const n = Math.min(this.remaining, buf.length - offset);
      if (n > 0) this.sink.onPesData(this.pesId, buf.subarray(offset, offset + n));
      this.remaining -= n;
      if (this.remaining === 0) this.endPes();
      return offset + n;
    }
    // PES_packet_length 0: the payload runs to the next system start code.
    const end = findSystemStartCode(buf, offset);
    if (end >= 0) {
      if (end > offset) this.sink.onPesData(this.pesId, buf.subarray(offset, end));
      this.endPes();
      return end;
    }
    const safe = Math.max(offset, buf.length - 3);
    if (safe > offset) this.sink.onPesData(this.pesId, buf.subarray(offset, safe));
    this.needMore = true;
    return safe;
  }

  private skip(buf: Buffer, offset: number): number {
    if (this.remaining >= 0) {
      const n = Math.min(this.remaining, buf.length - offset);
      this.remaining -= n;
      if (this.remaining === 0) this.mode = Mode.Scan;
      return offset + n;
    }
    const end = findSystemStartCode(buf, offset);
    if (end >= 0) {
      this.mode = Mode.Scan;
      return end;
    }
    this.needMore = true;
    return Math.max(offset, buf.length - 3);
  }

  private endPes(): void {
    this.mode = Mode.Scan;
    this.sink.onPesEnd(this.pesId);
  }

  private resync(buf: Buffer, offset: number): number {
    let i = buf.indexOf(START_CODE, offset);
    while (i >= 0) {
      const verdict = this.plausibleUnit(buf, i);
      if (verdict === 'more') break;
      if (verdict === 'yes') {
        this.stats.garbageBytes += i - offset;
        this.mode = Mode.Scan;
        return i;
      }
      i = buf.indexOf(START_CODE, i + 1);
    }
    const keepFrom = i >= 0 ? i : Math.max(offset, buf.length - 3);
    this.stats.garbageBytes += keepFrom - offset;
    this.needMore = true;
    return keepFrom;
  }

  /** Whether a start code at `i` opens something we can resynchronise on. */
  private plausibleUnit(buf: Buffer, i: number): 'yes' | 'no' | 'more' {
    if (buf.length - i < 16) return 'more';
    const id = buf[i + 3]!;
    if (id === 0xba) return (buf[i + 4]! & 0xc0) === 0x40 || (buf[i + 4]! & 0xf0) === 0x20 || isStartCode(buf, i + 4) ? 'yes' : 'no';
    if (id === 0xbb || id === 0xbc) return 'yes';
    if (!isVideoId(id) && !isAudioId(id)) return 'no';
    if (!this.mpeg1 && (buf[i + 6]! & 0xc0) !== 0x80) return 'no';
    try {
      return parsePesHeader(buf, i) === undefined ? 'more' : 'yes';
    } catch (err) {
      if (err instanceof ParseError) return 'no';
      throw err;
    }
  }

  /** Parses the unit whose start code should be at `offset`. */
  private unit(buf: Buffer, offset: number): number {
    if (buf.length - offset < 4) {
      this.needMore = true;
      return offset;
    }
    if (!isStartCode(buf, offset)) {
      this.stats.errors++;
      this.enterResync();
      return offset;
    }
    const id = buf[offset + 3]!;
    if (id === 0xba) return this.packHeader(buf, offset);
    if (id === 0xb9) return offset + 4;
    if (id === 0xbc) return this.psm(buf, offset);
    if (isVideoId(id) || isAudioId(id)) return this.pes(buf, offset, id);
    if (id < 0xb9) throw new ParseError(`start code 0x${id.toString(16)} is not a program stream start code`);
    // System header, private streams, padding, ECM/EMM, directory ...: skip by length.
    if (buf.length - offset < 6) {
      this.needMore = true;
      return offset;
    }
    if (id === 0xbb) this.stats.systemHeaders++;
    else this.stats.skippedPes++;
    this.remaining = buf.readUInt16BE(offset + 4);
    this.mode = this.remaining > 0 ? Mode.Skip : Mode.Scan;
    return offset + 6;
  }

  private packHeader(buf: Buffer, offset: number): number {
    if (buf.length - offset < 7) {
      this.needMore = true;
      return offset;
    }
    if (isStartCode(buf, offset + 4)) {
      // Hikvision H.265: a pack start code with no body, straight followed by a PES.
      this.stats.hikTruncatedPacks++;
      return offset + 4;
    }
    const b4 = buf[offset + 4]!;
    if ((b4 & 0xc0) === 0x40) {
      if (buf.length - offset < 14) {
        this.needMore = true;
        return offset;
      }
      const total = 14 + (buf[offset + 13]! & 0x07);
      if (buf.length - offset < total) {
        this.needMore = true;
        return offset;
      }
      this.stats.packs++;
      this.mpeg1 = false;
      return offset + total;
    }
    parseAssert((b4 & 0xf0) === 0x20, 'pack header is neither MPEG-2 nor MPEG-1');
    if (buf.length - offset < 12) {
      this.needMore = true;
      return offset;
    }
    this.stats.packs++;
    this.stats.mpeg1Packs++;
    this.mpeg1 = true;
    return offset + 12;
  }

  private psm(buf: Buffer, offset: number): number {
    if (buf.length - offset < 6) {
      this.needMore = true;
      return offset;
    }
    const length = buf.readUInt16BE(offset + 4);
    parseAssert(length <= MAX_PSM_LENGTH, `PSM length ${length} over ${MAX_PSM_LENGTH}`);
    if (buf.length - offset < 6 + length) {
      this.needMore = true;
      return offset;
    }
    const entries = parsePsm(buf.subarray(offset, offset + 6 + length));
    this.stats.psms++;
    const decls: EsStreamDecl[] = [];
    for (const { streamType, id } of entries) {
      const kind: EsKind | undefined = isVideoId(id) ? 'video' : isAudioId(id) ? 'audio' : undefined;
      if (!kind) continue;
      this.streamTypes.set(id, streamType);
      if (SUPPORTED_TYPES.has(streamType)) decls.push({ id, kind, streamType });
      else this.stats.unsupportedStreamTypes[streamType] = (this.stats.unsupportedStreamTypes[streamType] ?? 0) + 1;
    }
    this.sink.onStreams(decls);
    return offset + 6 + length;
  }

  private pes(buf: Buffer, offset: number, id: number): number {
    const header = parsePesHeader(buf, offset);
    if (!header) {
      this.needMore = true;
      return offset;
    }
    const streamType = this.streamTypes.get(id);
    if (streamType !== undefined && !SUPPORTED_TYPES.has(streamType)) {
      this.stats.unsupportedPes++;
      this.remaining = header.payloadLength;
      this.mode = this.remaining !== 0 ? Mode.Skip : Mode.Scan;
      return offset + header.headerLength;
    }
    this.stats.pes++;
    this.pesId = id;
    this.sink.onPesStart(pesStart(id, isVideoId(id) ? 'video' : 'audio', streamType, header));
    this.remaining = header.payloadLength;
    if (this.remaining === 0) {
      this.endPes();
    } else {
      this.mode = Mode.Payload;
    }
    return offset + header.headerLength;
  }
}

function isStartCode(buf: Buffer, offset: number): boolean {
  return buf[offset] === 0 && buf[offset + 1] === 0 && buf[offset + 2] === 1;
}
