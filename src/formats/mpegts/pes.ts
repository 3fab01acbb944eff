import { ParseError, parseAssert } from '../../core/errors';
import { TIMESTAMP_MODULUS, TS_PACKET_SIZE, TS_PAYLOAD_SIZE, TS_SYNC_BYTE } from './constants';

/**
 * PES packets (read and written; shared by the TS demuxer and muxer and the PS demuxer of rtp/ps)
 * and their TS packetization. Spec: ISO/IEC 13818-1 §2.4.3.2-§2.4.3.5, §2.4.3.6-7; the MPEG-1
 * header syntax of MPEG-1 program streams: ISO/IEC 11172-1 §2.4.3.3.
 */

/** Maps any (possibly huge or negative) 90 kHz value into the 33-bit timestamp space. */
export function wrap33(ticks: number): number {
  const value = Math.round(ticks) % TIMESTAMP_MODULUS;
  return value < 0 ? value + TIMESTAMP_MODULUS : value;
}

/** Writes a 5-byte PTS or DTS field with its 4-bit prefix and marker bits. */
export function writePesTimestamp(out: Buffer, offset: number, prefix: number, ticks: number): void {
  const ts = wrap33(ticks);
  const high = Math.floor(ts / 2 ** 30); // bits 32..30
  const low = ts % 2 ** 30; // bits 29..0
  out[offset] = (prefix << 4) | (high << 1) | 1;
  out[offset + 1] = (low >>> 22) & 0xff;
  out[offset + 2] = ((low >>> 14) & 0xfe) | 1;
  out[offset + 3] = (low >>> 7) & 0xff;
  out[offset + 4] = ((low << 1) & 0xfe) | 1;
}

/** Reads a 5-byte PTS or DTS field (marker bits are not checked). */
export function readPesTimestamp(buf: Buffer, offset: number): number {
  const high = (buf[offset]! >>> 1) & 0x07;
  const low = ((buf[offset + 1]! << 22) | ((buf[offset + 2]! >>> 1) << 15) | (buf[offset + 3]! << 7) | (buf[offset + 4]! >>> 1)) >>> 0;
  return high * 2 ** 30 + low;
}

export interface PesHeader {
  /** Bytes from the start code to the first payload byte. */
  readonly headerLength: number;
  /** Payload bytes after the header, or -1 when PES_packet_length is 0 (unbounded). */
  readonly payloadLength: number;
  readonly pts?: number;
  readonly dts?: number;
}

/** MPEG-1: at most 16 stuffing bytes (ISO/IEC 11172-1 §2.4.3.3). */
const MAX_MPEG1_STUFFING = 16;

/**
 * Parses the PES header at `offset` (which points at 00 00 01 stream_id), MPEG-2 or MPEG-1
 * syntax. Returns undefined when more bytes are needed; throws a ParseError when it is invalid.
 */
export function parsePesHeader(buf: Buffer, offset: number): PesHeader | undefined {
  const avail = buf.length - offset;
  if (avail < 7) return undefined;
  const packetLength = buf.readUInt16BE(offset + 4);
  if ((buf[offset + 6]! & 0xc0) === 0x80) return parseMpeg2(buf, offset, packetLength);
  return parseMpeg1(buf, offset, packetLength);
}

function payloadLengthOf(packetLength: number, headerLength: number): number {
  if (packetLength === 0) return -1;
  const payload = packetLength + 6 - headerLength;
  parseAssert(payload >= 0, `PES_packet_length ${packetLength} is shorter than its header`);
  return payload;
}

function parseMpeg2(buf: Buffer, offset: number, packetLength: number): PesHeader | undefined {
  if (buf.length - offset < 9) return undefined;
  const flags = buf[offset + 7]! >> 6;
  const dataLength = buf[offset + 8]!;
  const headerLength = 9 + dataLength;
  if (buf.length - offset < headerLength) return undefined;
  const payloadLength = payloadLengthOf(packetLength, headerLength);
  if (flags === 1) throw new ParseError('PES PTS_DTS_flags 01 is forbidden');
  if (flags === 2) {
    parseAssert(dataLength >= 5, 'PES header too short for its PTS');
    return { headerLength, payloadLength, pts: readPesTimestamp(buf, offset + 9) };
  }
  if (flags === 3) {
    parseAssert(dataLength >= 10, 'PES header too short for its PTS and DTS');
    return { headerLength, payloadLength, pts: readPesTimestamp(buf, offset + 9), dts: readPesTimestamp(buf, offset + 14) };
  }
  return { headerLength, payloadLength };
}

function parseMpeg1(buf: Buffer, offset: number, packetLength: number): PesHeader | undefined {
  let pos = offset + 6;
  let stuffing = 0;
  while (pos < buf.length && buf[pos] === 0xff) {
    pos++;
    parseAssert(++stuffing <= MAX_MPEG1_STUFFING, 'more than 16 MPEG-1 PES stuffing bytes');
  }
  if (pos >= buf.length) return undefined;
  if ((buf[pos]! & 0xc0) === 0x40) {
    pos += 2; // STD_buffer_scale and size
    if (pos >= buf.length) return undefined;
  }
  const marker = buf[pos]! >> 4;
  if (marker === 0x2) {
    if (pos + 5 > buf.length) return undefined;
    const headerLength = pos + 5 - offset;
    return { headerLength, payloadLength: payloadLengthOf(packetLength, headerLength), pts: readPesTimestamp(buf, pos) };
  }
  if (marker === 0x3) {
    if (pos + 10 > buf.length) return undefined;
    const headerLength = pos + 10 - offset;
    return { headerLength, payloadLength: payloadLengthOf(packetLength, headerLength), pts: readPesTimestamp(buf, pos), dts: readPesTimestamp(buf, pos + 5) };
  }
  parseAssert(buf[pos] === 0x0f, `bad MPEG-1 PES header byte 0x${buf[pos]!.toString(16)}`);
  const headerLength = pos + 1 - offset;
  return { headerLength, payloadLength: payloadLengthOf(packetLength, headerLength) };
}

/**
 * An MPEG-2 PES header. `payloadLength` sets PES_packet_length when `bounded` and it fits 16
 * bits; otherwise the length is 0 (unbounded, allowed for video in TS only). PTS is written
 * when given, DTS only when it differs from PTS. Used by the TS muxer and the tests' PS builders.
 */
export function pesHeader(streamId: number, pts: number | undefined, dts: number | undefined, payloadLength: number, bounded: boolean): Buffer {
  const withPts = pts !== undefined;
  const withDts = withPts && dts !== undefined && wrap33(pts) !== wrap33(dts);
  const dataLength = withDts ? 10 : withPts ? 5 : 0;
  const header = Buffer.allocUnsafe(9 + dataLength);
  header[0] = 0;
  header[1] = 0;
  header[2] = 1;
  header[3] = streamId;
  const packetLength = 3 + dataLength + payloadLength;
  header.writeUInt16BE(bounded && packetLength <= 0xffff ? packetLength : 0, 4);
  header[6] = 0x84; // '10', not scrambled, data_alignment_indicator: each PES starts an access unit
  header[7] = withDts ? 0xc0 : withPts ? 0x80 : 0;
  header[8] = dataLength;
  if (withPts) writePesTimestamp(header, 9, withDts ? 0x3 : 0x2, pts);
  if (withDts) writePesTimestamp(header, 14, 0x1, dts!);
  return header;
}

/** Writes a 6-byte PCR (33-bit base, 6 reserved bits, 9-bit extension 0). Spec: §2.4.3.5. */
export function writePcr(out: Buffer, offset: number, ticks: number): void {
  const base = wrap33(ticks);
  out[offset] = Math.floor(base / 2 ** 25) & 0xff;
  out[offset + 1] = Math.floor(base / 2 ** 17) & 0xff;
  out[offset + 2] = Math.floor(base / 2 ** 9) & 0xff;
  out[offset + 3] = Math.floor(base / 2) & 0xff;
  out[offset + 4] = ((base % 2) << 7) | 0x7e;
  out[offset + 5] = 0;
}

export interface PesPacketOptions {
  readonly pid: number;
  /** continuity_counter of the first packet. */
  readonly continuity: number;
  /** Sets random_access_indicator in the first packet. */
  readonly randomAccess: boolean;
  /** PCR for the first packet, in 90 kHz ticks. */
  readonly pcr?: number;
}

/** Bytes of the adaptation field (length byte included) the first packet needs before stuffing. */
function firstAdaptationBytes(options: PesPacketOptions): number {
  if (options.pcr !== undefined) return 8;
  return options.randomAccess ? 2 : 0;
}

/** TS packets needed for a PES of `totalLength` bytes. */
export function pesPacketCount(totalLength: number, options: PesPacketOptions): number {
  const first = TS_PAYLOAD_SIZE - firstAdaptationBytes(options);
  if (totalLength <= first) return 1;
  return 1 + Math.ceil((totalLength - first) / TS_PAYLOAD_SIZE);
}

/**
 * Splits a PES (given as parts, copied once) into TS packets written at `offset` of `out`:
 * payload_unit_start on the first packet, adaptation field with PCR and random_access_indicator
 * there, and adaptation-field stuffing in the last packet. Returns the next continuity counter.
 */
export function writePesPackets(out: Buffer, offset: number, parts: readonly Buffer[], totalLength: number, options: PesPacketOptions): number {
  let remaining = totalLength;
  let continuity = options.continuity & 0x0f;
  let pos = offset;
  let partIndex = 0;
  let partOffset = 0;
  let first = true;
  while (remaining > 0) {
    const base = first ? firstAdaptationBytes(options) : 0;
    const payload = Math.min(TS_PAYLOAD_SIZE - base, remaining);
    const adaptation = TS_PAYLOAD_SIZE - payload; // base plus stuffing
    out[pos] = TS_SYNC_BYTE;
    out[pos + 1] = (first ? 0x40 : 0) | (options.pid >>> 8);
    out[pos + 2] = options.pid & 0xff;
    out[pos + 3] = (adaptation > 0 ? 0x30 : 0x10) | continuity;
    let p = pos + 4;
    if (adaptation > 0) {
      out[p] = adaptation - 1; // adaptation_field_length (0: a single stuffing byte)
      if (adaptation > 1) {
        const pcr = first ? options.pcr : undefined;
        out[p + 1] = first ? (options.randomAccess ? 0x40 : 0) | (pcr !== undefined ? 0x10 : 0) : 0;
        let q = p + 2;
        if (pcr !== undefined) {
          writePcr(out, q, pcr);
          q += 6;
        }
        out.fill(0xff, q, p + adaptation);
      }
      p += adaptation;
    }
    // Gather `payload` bytes from the parts.
    let need = payload;
    while (need > 0) {
      const part = parts[partIndex]!;
      const take = Math.min(need, part.length - partOffset);
      part.copy(out, p, partOffset, partOffset + take);
      p += take;
      need -= take;
      partOffset += take;
      if (partOffset === part.length) {
        partIndex++;
        partOffset = 0;
      }
    }
    remaining -= payload;
    pos += TS_PACKET_SIZE;
    continuity = (continuity + 1) & 0x0f;
    first = false;
  }
  return continuity;
}
