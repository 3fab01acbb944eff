import { TIMESTAMP_MODULUS, TS_PACKET_SIZE, TS_PAYLOAD_SIZE, TS_SYNC_BYTE } from './constants';

/** PES packets and their TS packetization. Spec: ISO/IEC 13818-1 §2.4.3.2-§2.4.3.5, §2.4.3.6-7. */

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

/**
 * The PES header for one access unit. `payloadLength` sets PES_packet_length when `bounded`
 * and it fits 16 bits; otherwise the length is 0 (unbounded, allowed for video in TS only).
 * DTS is written only when it differs from PTS.
 */
export function pesHeader(streamId: number, pts: number, dts: number, payloadLength: number, bounded: boolean): Buffer {
  const withDts = wrap33(pts) !== wrap33(dts);
  const dataLength = withDts ? 10 : 5;
  const header = Buffer.allocUnsafe(9 + dataLength);
  header[0] = 0;
  header[1] = 0;
  header[2] = 1;
  header[3] = streamId;
  const packetLength = 3 + dataLength + payloadLength;
  header.writeUInt16BE(bounded && packetLength <= 0xffff ? packetLength : 0, 4);
  header[6] = 0x84; // '10', not scrambled, data_alignment_indicator: each PES starts an access unit
  header[7] = withDts ? 0xc0 : 0x80;
  header[8] = dataLength;
  writePesTimestamp(header, 9, withDts ? 0x3 : 0x2, pts);
  if (withDts) writePesTimestamp(header, 14, 0x1, dts);
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
