import { ParseError } from '../../core/errors';

/** H.265 nal_unit_type values. Spec: ITU-T H.265 §7.4.2.2 Table 7-1. */
export const H265_NAL = {
  TRAIL_N: 0,
  TRAIL_R: 1,
  TSA_N: 2,
  TSA_R: 3,
  STSA_N: 4,
  STSA_R: 5,
  RADL_N: 6,
  RADL_R: 7,
  RASL_N: 8,
  RASL_R: 9,
  BLA_W_LP: 16,
  BLA_W_RADL: 17,
  BLA_N_LP: 18,
  IDR_W_RADL: 19,
  IDR_N_LP: 20,
  CRA: 21,
  RSV_IRAP_22: 22,
  RSV_IRAP_23: 23,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  AUD: 35,
  EOS: 36,
  EOB: 37,
  FD: 38,
  PREFIX_SEI: 39,
  SUFFIX_SEI: 40,
} as const;

export const H265_VPS = H265_NAL.VPS;
export const H265_SPS = H265_NAL.SPS;
export const H265_PPS = H265_NAL.PPS;
export const H265_AUD = H265_NAL.AUD;

/** nal_unit_type of a NAL unit (2-byte header, without start code). ParseError if shorter. */
export function h265NalType(unit: Buffer): number {
  if (unit.length < 2) throw new ParseError(`H.265 NAL unit of ${unit.length} bytes has no 2-byte header`);
  return (unit[0]! >>> 1) & 0x3f;
}

/** IRAP pictures (BLA, IDR, CRA, reserved IRAP): nal_unit_type 16..23. */
export function isH265IrapType(type: number): boolean {
  return type >= H265_NAL.BLA_W_LP && type <= H265_NAL.RSV_IRAP_23;
}

/** True if the access unit holds an IRAP slice (a random access point). */
export function isH265Keyframe(units: readonly Buffer[]): boolean {
  for (const unit of units) {
    if (unit.length >= 2 && isH265IrapType((unit[0]! >>> 1) & 0x3f)) return true;
  }
  return false;
}

/** The first unit of the given type, if any. */
export function findH265Unit(units: readonly Buffer[], type: number): Buffer | undefined {
  return units.find((unit) => unit.length >= 2 && ((unit[0]! >>> 1) & 0x3f) === type);
}
