import { ParseError, parseAssert } from '../../core/errors';
import { parseH265Sps } from './sps';
import { H265_NAL } from './nal';

/** Most NAL arrays and NAL units per array accepted in one record. */
export const MAX_HEVC_CONFIG_ARRAYS = 16;
export const MAX_HEVC_CONFIG_NALUS_PER_ARRAY = 32;

export interface HevcDecoderConfig {
  /** Parameter sets: subarrays of the record given to the parser (no copy). */
  readonly vps: Buffer[];
  readonly sps: Buffer[];
  readonly pps: Buffer[];
  /** SEI and other NAL units carried in the record's arrays. */
  readonly other: Buffer[];
  /** Bytes of the NAL unit lengths in samples: lengthSizeMinusOne + 1. */
  readonly lengthSize: number;
  readonly profileSpace: number;
  readonly tier: number;
  readonly profile: number;
  readonly generalProfileCompatibility: number;
  /** 6 bytes, a subarray of the record. */
  readonly constraintFlags: Buffer;
  readonly level: number;
  readonly chromaFormat: number;
  readonly bitDepth: number;
  readonly bitDepthChroma: number;
  readonly numTemporalLayers: number;
  readonly temporalIdNested: boolean;
}

const HEADER_SIZE = 23;

/**
 * Builds an HEVCDecoderConfigurationRecord with one VPS, SPS and PPS (NAL units without start
 * codes) and 4-byte NAL lengths. Profile, level, chroma format and bit depths come from the SPS;
 * throws a ParseError if it does not parse. Spec: ISO/IEC 14496-15 §8.3.3.1.
 */
export function buildHevcDecoderConfigurationRecord(vps: Buffer, sps: Buffer, pps: Buffer): Buffer {
  const info = parseH265Sps(sps);
  const units = [vps, sps, pps];
  for (const unit of units) parseAssert(unit.length >= 2 && unit.length <= 0xffff, 'HEVC config: parameter set size out of range');
  const size = HEADER_SIZE + units.reduce((sum, unit) => sum + 3 + 2 + unit.length, 0);
  const out = Buffer.alloc(size);
  out[0] = 1; // configurationVersion
  out[1] = (info.profileSpace << 6) | (info.tier << 5) | info.profile;
  out.writeUInt32BE(info.generalProfileCompatibility, 2);
  info.constraintFlags.copy(out, 6);
  out[12] = info.level;
  out.writeUInt16BE(0xf000, 13); // reserved + min_spatial_segmentation_idc 0 (unknown)
  out[15] = 0xfc; // reserved + parallelismType 0 (unknown)
  out[16] = 0xfc | info.chromaFormat;
  out[17] = 0xf8 | (info.bitDepth - 8);
  out[18] = 0xf8 | (info.bitDepthChroma - 8);
  out.writeUInt16BE(0, 19); // avgFrameRate: unspecified
  // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3
  out[21] = (info.maxSubLayers << 3) | ((info.temporalIdNested ? 1 : 0) << 2) | 3;
  out[22] = 3; // numOfArrays
  let o = HEADER_SIZE;
  for (const [type, unit] of [
    [H265_NAL.VPS, vps],
    [H265_NAL.SPS, sps],
    [H265_NAL.PPS, pps],
  ] as const) {
    out[o++] = 0x80 | type; // array_completeness 1, reserved 0, NAL_unit_type
    o = out.writeUInt16BE(1, o);
    o = out.writeUInt16BE(unit.length, o);
    o += unit.copy(out, o);
  }
  return out;
}

/**
 * Parses an HEVCDecoderConfigurationRecord (FLV/RTMP HEVC sequence header, MP4 hvcC).
 * Spec: ISO/IEC 14496-15 §8.3.3.1.
 */
export function parseHevcDecoderConfigurationRecord(buf: Buffer): HevcDecoderConfig {
  parseAssert(buf.length >= HEADER_SIZE, `HEVC config record of ${buf.length} bytes is too short`);
  parseAssert(buf[0] === 1, `HEVC config record version ${buf[0]} is not 1`);
  const lengthSize = (buf[21]! & 3) + 1;
  parseAssert(lengthSize !== 3, 'HEVC config record: a NAL length size of 3 is not allowed');
  const arrays = buf[22]!;
  parseAssert(arrays <= MAX_HEVC_CONFIG_ARRAYS, `HEVC config record: ${arrays} arrays exceed ${MAX_HEVC_CONFIG_ARRAYS}`);
  const vps: Buffer[] = [];
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const other: Buffer[] = [];
  let offset = HEADER_SIZE;
  for (let a = 0; a < arrays; a++) {
    if (buf.length - offset < 3) throw new ParseError(`HEVC config record: array ${a} header truncated`);
    const type = buf[offset]! & 0x3f;
    const count = buf.readUInt16BE(offset + 1);
    offset += 3;
    parseAssert(count <= MAX_HEVC_CONFIG_NALUS_PER_ARRAY, `HEVC config record: ${count} NAL units in one array`);
    const target = type === H265_NAL.VPS ? vps : type === H265_NAL.SPS ? sps : type === H265_NAL.PPS ? pps : other;
    for (let i = 0; i < count; i++) {
      parseAssert(buf.length - offset >= 2, 'HEVC config record: NAL unit length truncated');
      const length = buf.readUInt16BE(offset);
      offset += 2;
      parseAssert(length <= buf.length - offset, `HEVC config record: NAL unit of ${length} bytes exceeds the record`);
      if (length > 0) target.push(buf.subarray(offset, offset + length));
      offset += length;
    }
  }
  return {
    vps,
    sps,
    pps,
    other,
    lengthSize,
    profileSpace: buf[1]! >>> 6,
    tier: (buf[1]! >>> 5) & 1,
    profile: buf[1]! & 0x1f,
    generalProfileCompatibility: buf.readUInt32BE(2),
    constraintFlags: buf.subarray(6, 12),
    level: buf[12]!,
    chromaFormat: buf[16]! & 3,
    bitDepth: (buf[17]! & 7) + 8,
    bitDepthChroma: (buf[18]! & 7) + 8,
    numTemporalLayers: (buf[21]! >>> 3) & 7,
    temporalIdNested: ((buf[21]! >>> 2) & 1) === 1,
  };
}
