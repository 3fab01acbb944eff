import { ParseError } from '../src/core/errors';

/** Spec: RFC 3550 §5.1: the fixed header is 12 bytes. */
export const RTP_HEADER_SIZE = 12;
/** Largest RTP packet accepted: the 16-bit RFC 4571 length bounds TCP; UDP datagrams fit too. */
export const MAX_RTP_PACKET_SIZE = 65_535;

/** One parsed RTP packet. `payload` is a view into the buffer given to `parseRtpPacket`. */
export interface RtpPacket {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrcs: readonly number[];
  /** Profile-defined 16 bits of the header extension, when there is one (the body is skipped). */
  readonly extensionProfile?: number;
  readonly payload: Buffer;
}

const NO_CSRCS: readonly number[] = [];

/**
 * Parses an RTP packet. The returned payload is a subarray of `buf` (no copy): the caller keeps
 * `buf` alive for as long as it keeps the payload.
 * Spec: RFC 3550 §5.1 (fixed header, padding, CSRC list), §5.3.1 (header extension).
 */
export function parseRtpPacket(buf: Buffer): RtpPacket {
  if (buf.length < RTP_HEADER_SIZE) throw new ParseError(`RTP packet too short: ${buf.length} bytes`);
  if (buf.length > MAX_RTP_PACKET_SIZE) throw new ParseError(`RTP packet too long: ${buf.length} bytes`);
  const b0 = buf[0]!;
  const version = b0 >> 6;
  if (version !== 2) throw new ParseError(`RTP version ${version}, expected 2`);
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = buf[1]!;
  let offset = RTP_HEADER_SIZE + csrcCount * 4;
  if (offset > buf.length) throw new ParseError('RTP CSRC list runs past the packet');
  let csrcs = NO_CSRCS;
  if (csrcCount > 0) {
    const list: number[] = [];
    for (let i = 0; i < csrcCount; i++) list.push(buf.readUInt32BE(RTP_HEADER_SIZE + i * 4));
    csrcs = list;
  }
  let extensionProfile: number | undefined;
  if (extension) {
    if (offset + 4 > buf.length) throw new ParseError('RTP header extension runs past the packet');
    extensionProfile = buf.readUInt16BE(offset);
    const words = buf.readUInt16BE(offset + 2);
    offset += 4 + words * 4;
    if (offset > buf.length) throw new ParseError('RTP header extension body runs past the packet');
  }
  let end = buf.length;
  if (padding) {
    const padLength = buf[buf.length - 1]!;
    if (padLength === 0 || end - padLength < offset) throw new ParseError(`bad RTP padding length ${padLength}`);
    end -= padLength;
  }
  const packet: RtpPacket = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    payload: buf.subarray(offset, end),
  };
  return extensionProfile === undefined ? packet : { ...packet, extensionProfile };
}

/** Reads the SSRC of something that looks like RTP, without a full parse (for demultiplexing). */
export function peekRtpSsrc(buf: Buffer): number | undefined {
  if (buf.length < RTP_HEADER_SIZE || buf[0]! >> 6 !== 2) return undefined;
  return buf.readUInt32BE(8);
}

export interface RtpPacketFields {
  marker?: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcs?: readonly number[];
  /** Adds a header extension with this profile and body (a multiple of 4 bytes). */
  extension?: { profile: number; body: Buffer };
  /** Adds this many bytes of padding (1..255). */
  padding?: number;
  payload: Buffer;
}

/** Serialises an RTP packet (for tests, for the RTSP client and for loopback senders). */
export function buildRtpPacket(fields: RtpPacketFields): Buffer {
  const csrcs = fields.csrcs ?? NO_CSRCS;
  if (csrcs.length > 15) throw new RangeError('at most 15 CSRCs');
  const extBody = fields.extension?.body;
  if (extBody && extBody.length % 4 !== 0) throw new RangeError('extension body must be a multiple of 4 bytes');
  const pad = fields.padding ?? 0;
  if (pad < 0 || pad > 255) throw new RangeError('padding must be 0..255');
  const extLength = fields.extension ? 4 + extBody!.length : 0;
  const headerLength = RTP_HEADER_SIZE + csrcs.length * 4 + extLength;
  const out = Buffer.alloc(headerLength + fields.payload.length + pad);
  out[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (fields.extension ? 0x10 : 0) | csrcs.length;
  out[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  out.writeUInt16BE(fields.sequence & 0xffff, 2);
  out.writeUInt32BE(fields.timestamp >>> 0, 4);
  out.writeUInt32BE(fields.ssrc >>> 0, 8);
  let offset = RTP_HEADER_SIZE;
  for (const csrc of csrcs) {
    out.writeUInt32BE(csrc >>> 0, offset);
    offset += 4;
  }
  if (fields.extension) {
    out.writeUInt16BE(fields.extension.profile & 0xffff, offset);
    out.writeUInt16BE(extBody!.length / 4, offset + 2);
    extBody!.copy(out, offset + 4);
    offset += 4 + extBody!.length;
  }
  fields.payload.copy(out, offset);
  if (pad > 0) out[out.length - 1] = pad;
  return out;
}
