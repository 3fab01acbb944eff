import { ParseError } from '../../core/errors';

/** H.264 nal_unit_type values. Spec: ITU-T H.264 §7.4.1 Table 7-1. */
export const H264_NAL = {
  NON_IDR: 1,
  PARTITION_A: 2,
  PARTITION_B: 3,
  PARTITION_C: 4,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
  SPS_EXT: 13,
  PREFIX: 14,
  SUBSET_SPS: 15,
  SLICE_EXT: 20,
} as const;

/** nal_unit_type of a NAL unit (without start code). Throws a ParseError for an empty unit. */
export function h264NalType(unit: Buffer): number {
  if (unit.length === 0) throw new ParseError('empty H.264 NAL unit');
  return unit[0]! & 0x1f;
}

/** True if the access unit holds an IDR slice. */
export function isH264Keyframe(units: readonly Buffer[]): boolean {
  for (const unit of units) {
    if (unit.length > 0 && (unit[0]! & 0x1f) === H264_NAL.IDR) return true;
  }
  return false;
}

/** The first unit of the given type, if any (e.g. the SPS of a keyframe). */
export function findH264Unit(units: readonly Buffer[], type: number): Buffer | undefined {
  return units.find((unit) => unit.length > 0 && (unit[0]! & 0x1f) === type);
}
