import { ParseError, parseAssert } from '../../src/core/errors';

/**
 * PES packet header parsing (MPEG-2 syntax, and the MPEG-1 syntax found in MPEG-1 program
 * streams). Spec: ISO/IEC 13818-1 §2.4.3.6 (PES packet), ISO/IEC 11172-1 §2.4.3.3.
 */

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

/** Reads a 33-bit timestamp from its 5-byte PES encoding (marker bits are not enforced). */
export function readPesTimestamp(buf: Buffer, offset: number): number {
  const b0 = buf[offset]!;
  const high = (b0 >> 1) & 0x07;
  const mid = (buf[offset + 1]! << 7) | (buf[offset + 2]! >> 1);
  const low = (buf[offset + 3]! << 7) | (buf[offset + 4]! >> 1);
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}

/** Writes a 33-bit timestamp with the given 4-bit prefix (0x2 PTS only, 0x3/0x1 PTS/DTS pair). */
export function writePesTimestamp(out: Buffer, offset: number, prefix: number, ts: number): void {
  const v = ((ts % 2 ** 33) + 2 ** 33) % 2 ** 33;
  const high = Math.floor(v / 2 ** 30);
  const mid = Math.floor(v / 2 ** 15) & 0x7fff;
  const low = v & 0x7fff;
  out[offset] = (prefix << 4) | (high << 1) | 1;
  out[offset + 1] = mid >> 7;
  out[offset + 2] = ((mid & 0x7f) << 1) | 1;
  out[offset + 3] = low >> 7;
  out[offset + 4] = ((low & 0x7f) << 1) | 1;
}

/**
 * Parses the PES header at `offset` (which points at 00 00 01 stream_id). Returns undefined
 * when more bytes are needed; throws a ParseError when the header is invalid.
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
    return {
      headerLength,
      payloadLength: payloadLengthOf(packetLength, headerLength),
      pts: readPesTimestamp(buf, pos),
      dts: readPesTimestamp(buf, pos + 5),
    };
  }
  parseAssert(buf[pos] === 0x0f, `bad MPEG-1 PES header byte 0x${buf[pos]!.toString(16)}`);
  const headerLength = pos + 1 - offset;
  return { headerLength, payloadLength: payloadLengthOf(packetLength, headerLength) };
}

export interface PesHeaderFields {
  streamId: number;
  pts?: number;
  dts?: number;
  /** Payload bytes that will follow; 0 writes PES_packet_length 0 (unbounded, video only). */
  payloadLength: number;
}

/** Builds an MPEG-2 PES header (for tests and loopback senders). */
export function buildPesHeader(fields: PesHeaderFields): Buffer {
  const hasPts = fields.pts !== undefined;
  const hasDts = hasPts && fields.dts !== undefined;
  const dataLength = hasDts ? 10 : hasPts ? 5 : 0;
  const out = Buffer.alloc(9 + dataLength);
  out[2] = 1;
  out[3] = fields.streamId;
  const packetLength = fields.payloadLength === 0 ? 0 : fields.payloadLength + 3 + dataLength;
  if (packetLength > 0xffff) throw new RangeError(`PES packet of ${packetLength} bytes does not fit 16 bits`);
  out.writeUInt16BE(packetLength, 4);
  out[6] = 0x80;
  out[7] = hasDts ? 0xc0 : hasPts ? 0x80 : 0;
  out[8] = dataLength;
  if (hasPts) writePesTimestamp(out, 9, hasDts ? 0x3 : 0x2, fields.pts!);
  if (hasDts) writePesTimestamp(out, 14, 0x1, fields.dts!);
  return out;
}
