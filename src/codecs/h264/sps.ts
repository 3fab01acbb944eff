import { ParseError, parseAssert } from '../../core/errors';
import { BitReader, removeEmulationPrevention } from '../bit-reader';

/** Largest picture side accepted, in pixels (8K is 7680 x 4320). */
export const MAX_PICTURE_SIDE = 16384;

export interface H264SpsInfo {
  /** profile_idc */
  readonly profile: number;
  /** The constraint_set flags byte. */
  readonly compatibility: number;
  /** level_idc */
  readonly level: number;
  readonly spsId: number;
  /** Display size, frame cropping applied. */
  readonly width: number;
  readonly height: number;
  /** chroma_format_idc: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  readonly chromaFormat: number;
  /** Luma bit depth (8 unless a high profile says otherwise). */
  readonly bitDepth: number;
  readonly bitDepthChroma: number;
  /** false for interlaced (field or MBAFF) coding. */
  readonly frameMbsOnly: boolean;
  /** Frames per second from the VUI timing info (time_scale / (2 * num_units_in_tick)). */
  readonly fps?: number;
}

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling lists. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/**
 * Parses an H.264 sequence parameter set (a NAL unit with its 1-byte header, no start code).
 * Spec: ITU-T H.264 §7.3.2.1.1 (SPS), §7.4.2.1.1 (frame cropping), §E.1.1 (VUI).
 * The VUI is read on a best-effort basis: a truncated VUI leaves `fps` undefined.
 */
export function parseH264Sps(sps: Buffer): H264SpsInfo {
  parseAssert(sps.length >= 4, `H.264 SPS of ${sps.length} bytes is too short`);
  parseAssert((sps[0]! & 0x1f) === 7, `NAL unit type ${sps[0]! & 0x1f} is not an H.264 SPS`);
  const r = new BitReader(removeEmulationPrevention(sps), 1);
  const profile = r.readBits(8);
  const compatibility = r.readBits(8);
  const level = r.readBits(8);
  const spsId = readUEMax(r, 31, 'seq_parameter_set_id');
  let chromaFormat = 1;
  let separateColourPlane = false;
  let bitDepth = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = readUEMax(r, 3, 'chroma_format_idc');
    if (chromaFormat === 3) separateColourPlane = r.readFlag();
    bitDepth = 8 + readUEMax(r, 6, 'bit_depth_luma_minus8');
    bitDepthChroma = 8 + readUEMax(r, 6, 'bit_depth_chroma_minus8');
    r.skipBits(1); // qpprime_y_zero_transform_bypass_flag
    if (r.readFlag()) skipScalingMatrix(r, chromaFormat === 3 ? 12 : 8);
  }
  readUEMax(r, 12, 'log2_max_frame_num_minus4');
  skipPicOrderCnt(r);
  readUEMax(r, 32, 'max_num_ref_frames');
  r.skipBits(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = readUEMax(r, MAX_PICTURE_SIDE / 16 - 1, 'pic_width_in_mbs_minus1') + 1;
  const heightMapUnits = readUEMax(r, MAX_PICTURE_SIDE / 16 - 1, 'pic_height_in_map_units_minus1') + 1;
  const frameMbsOnly = r.readFlag();
  if (!frameMbsOnly) r.skipBits(1); // mb_adaptive_frame_field_flag
  r.skipBits(1); // direct_8x8_inference_flag
  const chromaArrayType = separateColourPlane ? 0 : chromaFormat;
  const cropUnitX = chromaArrayType === 0 || chromaArrayType === 3 ? 1 : 2;
  const cropUnitY = (chromaArrayType === 1 ? 2 : 1) * (frameMbsOnly ? 1 : 2);
  let width = widthMbs * 16;
  let height = heightMapUnits * 16 * (frameMbsOnly ? 1 : 2);
  if (r.readFlag()) {
    const left = readUEMax(r, MAX_PICTURE_SIDE, 'frame_crop_left_offset');
    const right = readUEMax(r, MAX_PICTURE_SIDE, 'frame_crop_right_offset');
    const top = readUEMax(r, MAX_PICTURE_SIDE, 'frame_crop_top_offset');
    const bottom = readUEMax(r, MAX_PICTURE_SIDE, 'frame_crop_bottom_offset');
    width -= cropUnitX * (left + right);
    height -= cropUnitY * (top + bottom);
  }
  parseAssert(width > 0 && height > 0, `H.264 SPS cropping leaves ${width}x${height}`);
  parseAssert(height <= MAX_PICTURE_SIDE, `H.264 SPS height ${height} exceeds ${MAX_PICTURE_SIDE}`);
  const fps = r.readFlag() ? readVuiFps(r) : undefined;
  const info = { profile, compatibility, level, spsId, width, height, chromaFormat, bitDepth, bitDepthChroma, frameMbsOnly };
  return fps === undefined ? info : { ...info, fps };
}

export function readUEMax(r: BitReader, max: number, field: string): number {
  const value = r.readUE();
  if (value > max) throw new ParseError(`${field} ${value} exceeds ${max}`);
  return value;
}

/** Spec: ITU-T H.264 §7.3.2.1.1.1 scaling_list(). Only skipped: the values are not needed. */
function skipScalingMatrix(r: BitReader, lists: number): void {
  for (let i = 0; i < lists; i++) {
    if (!r.readFlag()) continue;
    const size = i < 6 ? 16 : 64;
    let last = 8;
    let next = 8;
    for (let j = 0; j < size && next !== 0; j++) {
      const delta = r.readSE();
      parseAssert(delta >= -128 && delta <= 127, `delta_scale ${delta} is out of range`);
      next = (last + delta + 256) % 256;
      if (next !== 0) last = next;
    }
  }
}

function skipPicOrderCnt(r: BitReader): void {
  const type = readUEMax(r, 2, 'pic_order_cnt_type');
  if (type === 0) {
    readUEMax(r, 12, 'log2_max_pic_order_cnt_lsb_minus4');
  } else if (type === 1) {
    r.skipBits(1); // delta_pic_order_always_zero_flag
    r.readSE(); // offset_for_non_ref_pic
    r.readSE(); // offset_for_top_to_bottom_field
    const cycle = readUEMax(r, 255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.readSE();
  }
}

/** Reads the VUI up to its timing info. Spec: ITU-T H.264 §E.1.1. */
function readVuiFps(r: BitReader): number | undefined {
  try {
    if (r.readFlag()) {
      // aspect_ratio_info_present_flag
      if (r.readBits(8) === 255) r.skipBits(32); // Extended_SAR: sar_width, sar_height
    }
    if (r.readFlag()) r.skipBits(1); // overscan_info_present_flag -> overscan_appropriate_flag
    if (r.readFlag()) {
      // video_signal_type_present_flag: video_format, full_range, colour_description_present
      r.skipBits(4);
      if (r.readFlag()) r.skipBits(24);
    }
    if (r.readFlag()) {
      r.readUE(); // chroma_sample_loc_type_top_field
      r.readUE(); // chroma_sample_loc_type_bottom_field
    }
    if (!r.readFlag()) return undefined; // timing_info_present_flag
    const numUnitsInTick = r.readBits(32);
    const timeScale = r.readBits(32);
    if (numUnitsInTick === 0 || timeScale === 0) return undefined;
    return roundFps(timeScale / (2 * numUnitsInTick));
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}

/** Rounds a frame rate to 3 decimals (29.97 stays 29.97, 25 stays 25). */
export function roundFps(fps: number): number {
  return Math.round(fps * 1000) / 1000;
}
