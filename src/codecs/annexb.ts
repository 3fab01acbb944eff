import { ParseError } from '../core/errors';

/**
 * Byte-stream (Annex B) and length-prefixed (AVCC/HVCC) NAL unit framing, shared by H.264 and
 * H.265. Spec: ITU-T H.264 Annex B, ITU-T H.265 Annex B, ISO/IEC 14496-15 §5.3.2.
 */

/** Most NAL units accepted in one access unit (a camera frame has a handful; slices add a few). */
export const MAX_NAL_UNITS_PER_ACCESS_UNIT = 1024;

const START_CODE = Buffer.from([0, 0, 1]);

/**
 * Splits an Annex B byte stream into NAL units (subarrays of `buf`, no copy) without start codes.
 * Accepts 3- and 4-byte start codes, skips empty units and trims trailing zero bytes
 * (trailing_zero_8bits). Leading zero bytes before the first start code are ignored; any other
 * data before it, or more than MAX_NAL_UNITS_PER_ACCESS_UNIT units, is a ParseError.
 */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const units: Buffer[] = [];
  let start = buf.indexOf(START_CODE);
  if (start < 0) {
    if (isAllZero(buf, 0, buf.length)) return units;
    throw new ParseError('Annex B: no start code found');
  }
  if (!isAllZero(buf, 0, start)) throw new ParseError('Annex B: data before the first start code');
  while (start >= 0) {
    const unitStart = start + 3;
    const next = buf.indexOf(START_CODE, unitStart);
    let unitEnd = next < 0 ? buf.length : next;
    while (unitEnd > unitStart && buf[unitEnd - 1] === 0) unitEnd--;
    if (unitEnd > unitStart) {
      if (units.length >= MAX_NAL_UNITS_PER_ACCESS_UNIT) {
        throw new ParseError(`Annex B: more than ${MAX_NAL_UNITS_PER_ACCESS_UNIT} NAL units`);
      }
      units.push(buf.subarray(unitStart, unitEnd));
    }
    start = next;
  }
  return units;
}

/**
 * Frames NAL units as Annex B without concatenating them: returns
 * [start code, unit, start code, unit, ...]. The units are the given Buffers (shared); the
 * 4-byte start code is one Buffer shared by the returned array.
 */
export function joinAnnexB(units: readonly Buffer[]): Buffer[] {
  const startCode = Buffer.from([0, 0, 0, 1]);
  const parts: Buffer[] = [];
  for (const unit of units) parts.push(startCode, unit);
  return parts;
}

/**
 * Splits length-prefixed NAL units (AVCC/HVCC samples, FLV/RTMP video payloads) into
 * subarrays of `buf` (no copy). Every length is checked against the bytes left; zero-length
 * units are skipped. `lengthSize` is 1..4 (lengthSizeMinusOne + 1 of the config record).
 */
export function splitLengthPrefixed(buf: Buffer, lengthSize = 4): Buffer[] {
  if (!Number.isInteger(lengthSize) || lengthSize < 1 || lengthSize > 4) {
    throw new ParseError(`NAL length size ${lengthSize} is not 1..4`);
  }
  const units: Buffer[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (buf.length - offset < lengthSize) throw new ParseError('NAL length prefix truncated');
    const length = buf.readUIntBE(offset, lengthSize);
    offset += lengthSize;
    if (length > buf.length - offset) {
      throw new ParseError(`NAL length ${length} exceeds the ${buf.length - offset} bytes left`);
    }
    if (length > 0) {
      if (units.length >= MAX_NAL_UNITS_PER_ACCESS_UNIT) {
        throw new ParseError(`more than ${MAX_NAL_UNITS_PER_ACCESS_UNIT} NAL units in one access unit`);
      }
      units.push(buf.subarray(offset, offset + length));
    }
    offset += length;
  }
  return units;
}

/**
 * The length prefix alone (not the unit) for `unit`: send [lengthPrefix(unit), unit] so that
 * the payload is never copied. Throws a RangeError if the unit does not fit `lengthSize` bytes.
 */
export function lengthPrefix(unit: Buffer, lengthSize = 4): Buffer {
  if (!Number.isInteger(lengthSize) || lengthSize < 1 || lengthSize > 4) {
    throw new RangeError(`NAL length size ${lengthSize} is not 1..4`);
  }
  if (unit.length >= 2 ** (8 * lengthSize)) {
    throw new RangeError(`NAL unit of ${unit.length} bytes does not fit a ${lengthSize}-byte length`);
  }
  const prefix = Buffer.allocUnsafe(lengthSize);
  prefix.writeUIntBE(unit.length, 0, lengthSize);
  return prefix;
}

/**
 * Length-prefixes every unit: [prefix, unit, prefix, unit, ...], the prefixes being
 * subarrays of one allocation and the units the given Buffers (shared).
 */
export function lengthPrefixAll(units: readonly Buffer[], lengthSize = 4): Buffer[] {
  const prefixes = Buffer.allocUnsafe(units.length * lengthSize);
  const parts: Buffer[] = [];
  units.forEach((unit, i) => {
    if (unit.length >= 2 ** (8 * lengthSize)) {
      throw new RangeError(`NAL unit of ${unit.length} bytes does not fit a ${lengthSize}-byte length`);
    }
    prefixes.writeUIntBE(unit.length, i * lengthSize, lengthSize);
    parts.push(prefixes.subarray(i * lengthSize, (i + 1) * lengthSize), unit);
  });
  return parts;
}

function isAllZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}
