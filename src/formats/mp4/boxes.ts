/**
 * ISO BMFF box framing: a box is a 32-bit size, a four-character type and its payload; a full
 * box adds a version byte and 24 flag bits. Spec: ISO/IEC 14496-12 §4.2.
 */

export const BOX_HEADER_SIZE = 8;

function byteLength(parts: readonly Buffer[]): number {
  let n = 0;
  for (const part of parts) n += part.length;
  return n;
}

/** One box as a single Buffer (for the small boxes of the init segment and the moof). */
export function box(type: string, ...payload: Buffer[]): Buffer {
  const size = BOX_HEADER_SIZE + byteLength(payload);
  const header = Buffer.allocUnsafe(BOX_HEADER_SIZE);
  header.writeUInt32BE(size, 0);
  header.write(type, 4, 4, 'latin1');
  return Buffer.concat([header, ...payload], size);
}

export function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, head, ...payload);
}

/** The 8-byte header of a box whose payload (of `payloadSize` bytes) is written separately. */
export function boxHeader(type: string, payloadSize: number): Buffer {
  const header = Buffer.allocUnsafe(BOX_HEADER_SIZE);
  header.writeUInt32BE(BOX_HEADER_SIZE + payloadSize, 0);
  header.write(type, 4, 4, 'latin1');
  return header;
}

export function u8(...values: number[]): Buffer {
  return Buffer.from(values);
}

export function u16(...values: number[]): Buffer {
  const out = Buffer.allocUnsafe(2 * values.length);
  values.forEach((v, i) => out.writeUInt16BE(v & 0xffff, 2 * i));
  return out;
}

export function u32(...values: number[]): Buffer {
  const out = Buffer.allocUnsafe(4 * values.length);
  values.forEach((v, i) => out.writeUInt32BE(v >>> 0, 4 * i));
  return out;
}

export function u64(value: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(value))), 0);
  return out;
}

export function zeros(n: number): Buffer {
  return Buffer.alloc(n);
}

/** The unity transformation matrix of tkhd/mvhd. Spec: ISO/IEC 14496-12 §8.2.2. */
export const UNITY_MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);
