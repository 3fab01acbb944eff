import { RTP_HEADER_SIZE } from '../packet';

/**
 * Incremental decoder for RTP over a byte stream: RFC 4571 (2-byte big-endian length before
 * each packet, GB/T 28181-2016 Annex L) and RTSP interleaved framing (`$`, channel, 2-byte
 * length; Spec: RFC 2326 §10.12), detected per frame.
 *
 * After garbage or an impossible length it resynchronises by searching for a packet carrying
 * the expected SSRC (or the last one seen), or an RTP packet whose payload opens with a PS pack
 * start (00 00 01 BA), the anchors ZLMediaKit's RtpSession also uses.
 *
 * Buffers: emitted packets are subarrays of the chunks given to `feed` (or of one concatenation
 * when a packet spans chunks). The decoder keeps at most one partial packet between calls.
 */

export interface FramedPacket {
  /** The RTP (or RTCP) packet, without the framing. */
  readonly data: Buffer;
  /** `$` framing only: the interleaved channel (odd channels carry RTCP by convention). */
  readonly channel?: number;
}

export interface Rfc4571Options {
  /** The SSRC to look for when resynchronising (the `y=` of the INVITE). */
  expectedSsrc?: number;
  /** Packets longer than this are impossible lengths. Default 65535 (the 16-bit maximum). */
  maxPacketSize?: number;
}

export interface FramingStats {
  packets: number;
  /** Bytes thrown away while looking for the next packet. */
  garbageBytes: number;
  /** Times the decoder lost sync and searched for it again. */
  resyncs: number;
}

const DOLLAR = 0x24;
/** Bytes kept from an unsynchronised tail: enough to hold a split anchor and its header. */
const RESYNC_TAIL = 32;
const PS_PACK_START = Buffer.from([0, 0, 1, 0xba]);

/** RFC 3550 §6.4.2: the smallest RTCP packet (an empty RR) is 8 bytes. */
const MIN_RTCP_SIZE = 8;

function looksLikeRtp(buf: Buffer, offset: number, length: number, maxSize: number): boolean {
  if (length > maxSize || buf[offset]! >> 6 !== 2) return false;
  if (length >= RTP_HEADER_SIZE) return true;
  const type = buf[offset + 1];
  return length >= MIN_RTCP_SIZE && type !== undefined && type >= 192 && type <= 223;
}

export class Rfc4571Decoder {
  private pending: Buffer | undefined;
  private synced = true;
  /** The last frame used `$` framing. */
  private interleaved = false;
  private expectedSsrc: number | undefined;
  private lastSsrc: number | undefined;
  private readonly maxSize: number;
  readonly stats: FramingStats = { packets: 0, garbageBytes: 0, resyncs: 0 };

  constructor(options: Rfc4571Options = {}) {
    this.expectedSsrc = options.expectedSsrc;
    this.maxSize = Math.min(65_535, options.maxPacketSize ?? 65_535);
  }

  /** The SSRC to look for when resynchronising; updatable (devices may answer their own `y=`). */
  setExpectedSsrc(ssrc: number | undefined): void {
    this.expectedSsrc = ssrc;
  }

  /** Bytes held back waiting for the rest of a packet. */
  get buffered(): number {
    return this.pending?.length ?? 0;
  }

  /** Decodes whatever complete packets `chunk` finishes. Never throws on bad input. */
  feed(chunk: Buffer): FramedPacket[] {
    let buf = chunk;
    if (this.pending && this.pending.length > 0) buf = Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    const out: FramedPacket[] = [];
    let offset = 0;
    for (;;) {
      if (!this.synced) {
        const found = this.findSync(buf, offset);
        if (found < 0) {
          const keep = Math.max(offset, buf.length - RESYNC_TAIL);
          this.stats.garbageBytes += keep - offset;
          offset = keep;
          break;
        }
        this.stats.garbageBytes += found - offset;
        offset = found;
        this.synced = true;
      }
      const frame = this.frameAt(buf, offset);
      if (frame === 'short') break;
      if (frame === 'bad') {
        this.synced = false;
        this.stats.resyncs++;
        offset++;
        this.stats.garbageBytes++;
        continue;
      }
      const data = buf.subarray(frame.start, frame.end);
      out.push(frame.channel === undefined ? { data } : { data, channel: frame.channel });
      this.stats.packets++;
      if (data.length >= RTP_HEADER_SIZE && (data[1]! < 192 || data[1]! > 223)) this.lastSsrc = data.readUInt32BE(8);
      offset = frame.end;
    }
    if (offset < buf.length) this.pending = buf.subarray(offset);
    return out;
  }

  /**
   * The frame at `offset`: complete, needs more data, or not a plausible frame. A leading `$`
   * is ambiguous (an RFC 4571 length of 0x24xx), so the framing of the previous frame is tried first.
   */
  private frameAt(buf: Buffer, offset: number): { start: number; end: number; channel?: number } | 'short' | 'bad' {
    if (buf.length - offset < 5) return 'short';
    const dollar = buf[offset] === DOLLAR;
    if (dollar && this.interleaved) {
      const frame = this.interleavedAt(buf, offset);
      if (frame !== 'bad') return frame;
    }
    const frame = this.rfc4571At(buf, offset);
    if (frame !== 'bad' || !dollar || this.interleaved) return frame;
    return this.interleavedAt(buf, offset);
  }

  private interleavedAt(buf: Buffer, offset: number): { start: number; end: number; channel: number } | 'short' | 'bad' {
    const length = buf.readUInt16BE(offset + 2);
    if (!looksLikeRtp(buf, offset + 4, length, this.maxSize)) return 'bad';
    this.interleaved = true;
    if (buf.length - offset < 4 + length) return 'short';
    return { start: offset + 4, end: offset + 4 + length, channel: buf[offset + 1]! };
  }

  private rfc4571At(buf: Buffer, offset: number): { start: number; end: number } | 'short' | 'bad' {
    const length = buf.readUInt16BE(offset);
    if (!looksLikeRtp(buf, offset + 2, length, this.maxSize)) return 'bad';
    this.interleaved = false;
    if (buf.length - offset < 2 + length) return 'short';
    return { start: offset + 2, end: offset + 2 + length };
  }

  /**
   * Position of the next plausible frame start at or after `from`, or -1. A candidate is a
   * length (or `$` header) followed by an RTP header carrying the known SSRC, or whose payload
   * starts with a PS pack header.
   */
  private findSync(buf: Buffer, from: number): number {
    const ssrc = this.expectedSsrc ?? this.lastSsrc;
    let best = -1;
    if (ssrc !== undefined) {
      const pattern = Buffer.alloc(4);
      pattern.writeUInt32BE(ssrc >>> 0);
      best = this.searchAnchor(buf, from, pattern, 8);
    }
    const ps = this.searchAnchor(buf, from, PS_PACK_START, RTP_HEADER_SIZE);
    if (ps >= 0 && (best < 0 || ps < best)) best = ps;
    return best;
  }

  /** Finds `pattern` located `headerOffset` bytes into an RTP header behind a valid framing. */
  private searchAnchor(buf: Buffer, from: number, pattern: Buffer, headerOffset: number): number {
    let index = buf.indexOf(pattern, from + headerOffset);
    while (index >= 0) {
      const header = index - headerOffset;
      for (const framing of [2, 4]) {
        const start = header - framing;
        if (start < from) continue;
        if (framing === 4 && buf[start] !== DOLLAR) continue;
        const length = buf.readUInt16BE(header - 2);
        if (looksLikeRtp(buf, header, length, this.maxSize)) return start;
      }
      index = buf.indexOf(pattern, index + 1);
    }
    return -1;
  }
}

/** Frames packets for a byte stream: RFC 4571, or `$` interleaved when `channel` is given. */
export function encodeRfc4571(packet: Buffer, channel?: number): Buffer {
  if (packet.length > 65_535) throw new RangeError('RTP packet longer than 65535 bytes cannot be framed');
  if (channel === undefined) {
    const header = Buffer.alloc(2);
    header.writeUInt16BE(packet.length);
    return Buffer.concat([header, packet]);
  }
  const header = Buffer.from([DOLLAR, channel & 0xff, 0, 0]);
  header.writeUInt16BE(packet.length, 2);
  return Buffer.concat([header, packet]);
}
