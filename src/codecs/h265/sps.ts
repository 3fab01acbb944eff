import { ParseError, parseAssert } from '../../core/errors';
import { BitReader, removeEmulationPrevention } from '../bit-reader';
import { MAX_PICTURE_SIDE, readUEMax, roundFps } from '../h264/sps';

/** The general part of profile_tier_level(). Spec: ITU-T H.265 §7.3.3. */
export interface H265ProfileTierLevel {
  readonly profileSpace: number;
  /** general_tier_flag: 0 Main tier, 1 High tier. */
  readonly tier: number;
  /** general_profile_idc: 1 Main, 2 Main 10, 3 Main Still Picture, 4 RExt ... */
  readonly profile: number;
  /** The 32 general_profile_compatibility_flags as an unsigned integer (flag 0 is the MSB). */
  readonly generalProfileCompatibility: number;
  /** The 48 bits from general_progressive_source_flag on (6 bytes, a copy). */
  readonly constraintFlags: Buffer;
  /** general_level_idc: 30 times the level number (93 = level 3.1). */
  readonly level: number;
}

export interface H265SpsInfo extends H265ProfileTierLevel {
  readonly vpsId: number;
  readonly spsId: number;
  /** sps_max_sub_layers_minus1 + 1 */
  readonly maxSubLayers: number;
  readonly temporalIdNested: boolean;
  /** Display size, conformance window applied. */
  readonly width: number;
  readonly height: number;
  /** chroma_format_idc: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  readonly chromaFormat: number;
  readonly bitDepth: number;
  readonly bitDepthChroma: number;
  /** Frames per second from the VUI timing info, when present and readable. */
  readonly fps?: number;
}

const MAX_SHORT_TERM_REF_PIC_SETS = 64;
const MAX_DELTA_POCS = 16;

/**
 * Parses an H.265 sequence parameter set (a NAL unit with its 2-byte header, no start code).
 * Everything after the bit depths is read only to reach the VUI timing info, on a best-effort
 * basis: a problem there leaves `fps` undefined. Spec: ITU-T H.265 §7.3.2.2.1, §E.2.1.
 */
export function parseH265Sps(sps: Buffer): H265SpsInfo {
  parseAssert(sps.length >= 4, `H.265 SPS of ${sps.length} bytes is too short`);
  const type = (sps[0]! >>> 1) & 0x3f;
  parseAssert(type === 33, `NAL unit type ${type} is not an H.265 SPS`);
  const r = new BitReader(removeEmulationPrevention(sps), 2);
  const vpsId = r.readBits(4);
  const maxSubLayersMinus1 = r.readBits(3);
  parseAssert(maxSubLayersMinus1 <= 6, `sps_max_sub_layers_minus1 ${maxSubLayersMinus1} exceeds 6`);
  const temporalIdNested = r.readFlag();
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  const spsId = readUEMax(r, 15, 'sps_seq_parameter_set_id');
  const chromaFormat = readUEMax(r, 3, 'chroma_format_idc');
  const separateColourPlane = chromaFormat === 3 ? r.readFlag() : false;
  let width = readUEMax(r, MAX_PICTURE_SIDE, 'pic_width_in_luma_samples');
  let height = readUEMax(r, MAX_PICTURE_SIDE, 'pic_height_in_luma_samples');
  if (r.readFlag()) {
    const chromaArrayType = separateColourPlane ? 0 : chromaFormat;
    const subWidth = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeight = chromaArrayType === 1 ? 2 : 1;
    const left = readUEMax(r, MAX_PICTURE_SIDE, 'conf_win_left_offset');
    const right = readUEMax(r, MAX_PICTURE_SIDE, 'conf_win_right_offset');
    const top = readUEMax(r, MAX_PICTURE_SIDE, 'conf_win_top_offset');
    const bottom = readUEMax(r, MAX_PICTURE_SIDE, 'conf_win_bottom_offset');
    width -= subWidth * (left + right);
    height -= subHeight * (top + bottom);
  }
  parseAssert(width > 0 && height > 0, `H.265 SPS picture size ${width}x${height} is empty`);
  const bitDepth = 8 + readUEMax(r, 8, 'bit_depth_luma_minus8');
  const bitDepthChroma = 8 + readUEMax(r, 8, 'bit_depth_chroma_minus8');
  const fps = readFpsAfterBitDepth(r, maxSubLayersMinus1);
  const info: H265SpsInfo = {
    ...ptl,
    vpsId,
    spsId,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNested,
    width,
    height,
    chromaFormat,
    bitDepth,
    bitDepthChroma,
  };
  return fps === undefined ? info : { ...info, fps };
}

/**
 * profile_tier_level(1, maxNumSubLayersMinus1): the general part, sub-layer parts skipped.
 * Shared with the VPS. Spec: ITU-T H.265 §7.3.3.
 */
export function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): H265ProfileTierLevel {
  const profileSpace = r.readBits(2);
  const tier = r.readBit();
  const profile = r.readBits(5);
  const generalProfileCompatibility = r.readBits(32);
  const constraintFlags = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) constraintFlags[i] = r.readBits(8);
  const level = r.readBits(8);
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.readFlag());
    levelPresent.push(r.readFlag());
  }
  if (maxSubLayersMinus1 > 0) r.skipBits(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) r.skipBits(88);
    if (levelPresent[i]) r.skipBits(8);
  }
  return { profileSpace, tier, profile, generalProfileCompatibility, constraintFlags, level };
}

function readFpsAfterBitDepth(r: BitReader, maxSubLayersMinus1: number): number | undefined {
  try {
    const log2MaxPocLsb = 4 + readUEMax(r, 12, 'log2_max_pic_order_cnt_lsb_minus4');
    const orderingInfoForAll = r.readFlag();
    for (let i = orderingInfoForAll ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
      r.readUE(); // sps_max_dec_pic_buffering_minus1
      r.readUE(); // sps_max_num_reorder_pics
      r.readUE(); // sps_max_latency_increase_plus1
    }
    for (let i = 0; i < 6; i++) r.readUE(); // coding/transform block sizes, hierarchy depths
    if (r.readFlag() && r.readFlag()) skipScalingListData(r); // scaling_list_enabled, data present
    r.skipBits(2); // amp_enabled_flag, sample_adaptive_offset_enabled_flag
    if (r.readFlag()) {
      // pcm_enabled_flag
      r.skipBits(8); // pcm sample bit depths
      r.readUE();
      r.readUE();
      r.skipBits(1);
    }
    skipShortTermRefPicSets(r);
    if (r.readFlag()) {
      // long_term_ref_pics_present_flag
      const count = readUEMax(r, 32, 'num_long_term_ref_pics_sps');
      for (let i = 0; i < count; i++) r.skipBits(log2MaxPocLsb + 1);
    }
    r.skipBits(2); // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
    return r.readFlag() ? readVuiFps(r) : undefined;
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}

/** Spec: ITU-T H.265 §7.3.4 scaling_list_data(). */
function skipScalingListData(r: BitReader): void {
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let matrixId = 0; matrixId < 6; matrixId += sizeId === 3 ? 3 : 1) {
      if (!r.readFlag()) {
        r.readUE(); // scaling_list_pred_matrix_id_delta
        continue;
      }
      const coefficients = Math.min(64, 1 << (4 + (sizeId << 1)));
      if (sizeId > 1) r.readSE(); // scaling_list_dc_coef_minus8
      for (let i = 0; i < coefficients; i++) r.readSE();
    }
  }
}

/** Spec: ITU-T H.265 §7.3.7 st_ref_pic_set(), as it appears in the SPS. */
function skipShortTermRefPicSets(r: BitReader): void {
  const count = readUEMax(r, MAX_SHORT_TERM_REF_PIC_SETS, 'num_short_term_ref_pic_sets');
  const numDeltaPocs: number[] = [];
  for (let idx = 0; idx < count; idx++) {
    const interPrediction = idx !== 0 && r.readFlag();
    if (interPrediction) {
      r.skipBits(1); // delta_rps_sign
      r.readUE(); // abs_delta_rps_minus1
      const reference = numDeltaPocs[idx - 1]!; // delta_idx_minus1 is absent in the SPS: RefRpsIdx = idx - 1
      let derived = 0;
      for (let j = 0; j <= reference; j++) {
        const used = r.readFlag();
        const useDelta = used || r.readFlag();
        if (useDelta) derived++;
      }
      parseAssert(derived <= MAX_DELTA_POCS, `st_ref_pic_set ${idx} has ${derived} pictures`);
      numDeltaPocs.push(derived);
    } else {
      const negative = readUEMax(r, MAX_DELTA_POCS, 'num_negative_pics');
      const positive = readUEMax(r, MAX_DELTA_POCS - negative, 'num_positive_pics');
      for (let i = 0; i < negative + positive; i++) {
        r.readUE(); // delta_poc_sX_minus1
        r.skipBits(1); // used_by_curr_pic_sX_flag
      }
      numDeltaPocs.push(negative + positive);
    }
  }
}

/** Reads the VUI up to its timing info. Spec: ITU-T H.265 §E.2.1. */
function readVuiFps(r: BitReader): number | undefined {
  if (r.readFlag() && r.readBits(8) === 255) r.skipBits(32); // aspect ratio, Extended_SAR
  if (r.readFlag()) r.skipBits(1); // overscan
  if (r.readFlag()) {
    r.skipBits(4); // video_format, video_full_range_flag
    if (r.readFlag()) r.skipBits(24); // colour description
  }
  if (r.readFlag()) {
    r.readUE();
    r.readUE(); // chroma sample locations
  }
  r.skipBits(3); // neutral_chroma_indication, field_seq, frame_field_info_present
  if (r.readFlag()) for (let i = 0; i < 4; i++) r.readUE(); // default display window
  if (!r.readFlag()) return undefined; // vui_timing_info_present_flag
  const numUnitsInTick = r.readBits(32);
  const timeScale = r.readBits(32);
  if (numUnitsInTick === 0 || timeScale === 0) return undefined;
  return roundFps(timeScale / numUnitsInTick);
}
