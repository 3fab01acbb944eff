import { ParseError, parseAssert } from '../../core/errors';
import { parseH264Sps } from './sps';

/** Most parameter sets accepted in one config record (the field allows 31 SPS and 255 PPS). */
export const MAX_PARAMETER_SETS = 32;

export interface AvcDecoderConfig {
  /** Subarrays of the record given to the parser (no copy). */
  readonly sps: Buffer[];
  readonly pps: Buffer[];
  /** Bytes of the NAL unit lengths in samples: lengthSizeMinusOne + 1. */
  readonly lengthSize: number;
  readonly profile: number;
  readonly compatibility: number;
  readonly level: number;
}

/**
 * Builds an AVCDecoderConfigurationRecord for one SPS and one PPS (NAL units without start
 * codes) with 4-byte NAL lengths; high profiles get the chroma/bit-depth extension.
 * Throws a ParseError if the SPS does not parse. Spec: ISO/IEC 14496-15 §5.3.3.1.
 */
export function buildAvcDecoderConfigurationRecord(sps: Buffer, pps: Buffer): Buffer {
  const info = parseH264Sps(sps);
  parseAssert(sps.length <= 0xffff && pps.length > 0 && pps.length <= 0xffff, 'AVC config: parameter set size out of range');
  const highProfile = [100, 110, 122, 144].includes(info.profile);
  const out = Buffer.alloc(6 + 2 + sps.length + 1 + 2 + pps.length + (highProfile ? 4 : 0));
  let o = 0;
  out[o++] = 1; // configurationVersion
  out[o++] = sps[1]!; // AVCProfileIndication
  out[o++] = sps[2]!; // profile_compatibility
  out[o++] = sps[3]!; // AVCLevelIndication
  out[o++] = 0xfc | 3; // reserved 6 bits + lengthSizeMinusOne = 3
  out[o++] = 0xe0 | 1; // reserved 3 bits + numOfSequenceParameterSets = 1
  o = out.writeUInt16BE(sps.length, o);
  o += sps.copy(out, o);
  out[o++] = 1; // numOfPictureParameterSets
  o = out.writeUInt16BE(pps.length, o);
  o += pps.copy(out, o);
  if (highProfile) {
    out[o++] = 0xfc | info.chromaFormat;
    out[o++] = 0xf8 | (info.bitDepth - 8);
    out[o++] = 0xf8 | (info.bitDepthChroma - 8);
    out[o++] = 0; // numOfSequenceParameterSetExt
  }
  return out;
}

/**
 * Parses an AVCDecoderConfigurationRecord (the FLV/RTMP AVC sequence header, the MP4 avcC).
 * The returned parameter sets are subarrays of `buf`. Spec: ISO/IEC 14496-15 §5.3.3.1.
 */
export function parseAvcDecoderConfigurationRecord(buf: Buffer): AvcDecoderConfig {
  parseAssert(buf.length >= 7, `AVC config record of ${buf.length} bytes is too short`);
  parseAssert(buf[0] === 1, `AVC config record version ${buf[0]} is not 1`);
  const lengthSize = (buf[4]! & 3) + 1;
  parseAssert(lengthSize !== 3, 'AVC config record: a NAL length size of 3 is not allowed');
  let offset = 5;
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const spsCount = buf[offset++]! & 0x1f;
  offset = readParameterSets(buf, offset, spsCount, sps, 'SPS');
  parseAssert(offset < buf.length, 'AVC config record: PPS count missing');
  const ppsCount = buf[offset++]!;
  parseAssert(ppsCount <= MAX_PARAMETER_SETS, `AVC config record: ${ppsCount} PPS exceeds ${MAX_PARAMETER_SETS}`);
  readParameterSets(buf, offset, ppsCount, pps, 'PPS');
  // The high-profile extension that may follow is not needed: the SPS says the same.
  return { sps, pps, lengthSize, profile: buf[1]!, compatibility: buf[2]!, level: buf[3]! };
}

function readParameterSets(buf: Buffer, offset: number, count: number, out: Buffer[], what: string): number {
  for (let i = 0; i < count; i++) {
    if (buf.length - offset < 2) throw new ParseError(`AVC config record: ${what} ${i} length truncated`);
    const length = buf.readUInt16BE(offset);
    offset += 2;
    parseAssert(length > 0, `AVC config record: empty ${what}`);
    parseAssert(length <= buf.length - offset, `AVC config record: ${what} of ${length} bytes exceeds the record`);
    out.push(buf.subarray(offset, offset + length));
    offset += length;
  }
  return offset;
}
