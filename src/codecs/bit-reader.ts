import { ParseError } from '../core/errors';

/**
 * Reads a bitstream most significant bit first (H.264/H.265 RBSP, AAC configs, ADTS).
 * Every read past the end throws a ParseError. Keeps a reference to the Buffer it reads.
 */
export class BitReader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly buf: Buffer,
    byteOffset = 0,
  ) {
    this.pos = byteOffset * 8;
    this.end = buf.length * 8;
  }

  /** Bits not read yet. */
  get bitsLeft(): number {
    return this.end - this.pos;
  }

  /** Position from the start of the buffer, in bits. */
  get bitPosition(): number {
    return this.pos;
  }

  /** Reads `n` (0..32) bits as an unsigned integer. */
  readBits(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n > 32) throw new RangeError(`readBits(${n}): n must be 0..32`);
    this.need(n);
    let value = 0;
    let remaining = n;
    while (remaining > 0) {
      const byte = this.buf[this.pos >>> 3]!;
      const bitInByte = this.pos & 7;
      const take = Math.min(8 - bitInByte, remaining);
      const bits = (byte >>> (8 - bitInByte - take)) & ((1 << take) - 1);
      // Multiplication rather than << so that 32-bit values stay unsigned.
      value = value * (1 << take) + bits;
      remaining -= take;
      this.pos += take;
    }
    return value;
  }

  readBit(): number {
    this.need(1);
    const bit = (this.buf[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return bit;
  }

  readFlag(): boolean {
    return this.readBit() === 1;
  }

  /** Unsigned Exp-Golomb ue(v). Spec: ITU-T H.264 §9.1. Values up to 2^31 - 2. */
  readUE(): number {
    let leadingZeros = 0;
    while (this.readBit() === 0) {
      leadingZeros++;
      if (leadingZeros > 31) throw new ParseError('Exp-Golomb code longer than 32 bits');
    }
    if (leadingZeros === 0) return 0;
    return 2 ** leadingZeros - 1 + this.readBits(leadingZeros);
  }

  /** Signed Exp-Golomb se(v). Spec: ITU-T H.264 §9.1.1. */
  readSE(): number {
    const k = this.readUE();
    if (k === 0) return 0;
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  skipBits(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`skipBits(${n}): n must be a non-negative integer`);
    this.need(n);
    this.pos += n;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      throw new ParseError(`bitstream ended: ${n} bits wanted at bit ${this.pos} of ${this.end}`);
    }
  }
}

/**
 * Removes emulation prevention bytes (00 00 03 -> 00 00) from a NAL unit, giving its RBSP.
 * Returns the input itself when it holds none (no copy); otherwise a new Buffer.
 * Spec: ITU-T H.264 §7.4.1, ITU-T H.265 §7.4.2.
 */
export function removeEmulationPrevention(nal: Buffer): Buffer {
  let first = -1;
  for (let i = 2; i < nal.length; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return nal;
  const out = Buffer.allocUnsafe(nal.length);
  nal.copy(out, 0, 0, first);
  let written = first;
  let zeros = 0;
  for (let i = first + 1; i < nal.length; i++) {
    const byte = nal[i]!;
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out[written++] = byte;
  }
  return out.subarray(0, written);
}
