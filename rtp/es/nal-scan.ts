import type { VideoCodec } from '../../src/core/codec';

/**
 * NAL-header level helpers for splitting a video elementary stream into access units and for
 * guessing its codec when no PSM/PMT says what it is.
 */

/** Header bytes needed to classify a NAL unit (H.265: 2-byte header + first slice byte). */
export const NAL_CLASSIFY_BYTES = 3;

export const enum NalClass {
  /** Starts a new access unit when it follows a VCL NAL (AUD, parameter sets, SEI ...). */
  AuStart,
  /** The first slice of a picture: starts a new access unit after a VCL NAL. */
  FirstSlice,
  /** Another slice of the current picture. */
  Slice,
  /** Belongs to the current access unit (suffix SEI, filler, end of sequence ...). */
  Other,
}

/**
 * Classifies the NAL unit whose header starts at `offset`; `available` bytes follow it.
 * Spec: ITU-T H.264 §7.4.1.2.3, ITU-T H.265 §7.4.2.4.4 (order of NAL units in an access unit).
 */
export function classifyNal(codec: VideoCodec, buf: Buffer, offset: number, available: number): NalClass {
  if (codec === 'h264') {
    const type = buf[offset]! & 0x1f;
    if (type >= 1 && type <= 5) {
      // first_mb_in_slice is ue(v): 0 is the single bit '1'.
      return available >= 2 && (buf[offset + 1]! & 0x80) !== 0 ? NalClass.FirstSlice : NalClass.Slice;
    }
    if (type === 6 || type === 7 || type === 8 || type === 9 || (type >= 13 && type <= 18)) return NalClass.AuStart;
    return NalClass.Other;
  }
  const type = (buf[offset]! >> 1) & 0x3f;
  if (type <= 31) {
    // first_slice_segment_in_pic_flag is the first bit after the 2-byte header.
    return available >= 3 && (buf[offset + 2]! & 0x80) !== 0 ? NalClass.FirstSlice : NalClass.Slice;
  }
  if ((type >= 32 && type <= 35) || type === 39 || (type >= 41 && type <= 44) || (type >= 48 && type <= 55)) return NalClass.AuStart;
  return NalClass.Other;
}

export function isVcl(cls: NalClass): boolean {
  return cls === NalClass.FirstSlice || cls === NalClass.Slice;
}

/** True for an access unit delimiter (dropped from frames: muxers write their own if needed). */
export function isAud(codec: VideoCodec, unit: Buffer): boolean {
  if (unit.length === 0) return false;
  return codec === 'h264' ? (unit[0]! & 0x1f) === 9 : ((unit[0]! >> 1) & 0x3f) === 35;
}

/**
 * Guesses the codec from one NAL header; only unambiguous headers decide, anything else returns
 * undefined so the caller keeps looking. An H.264 slice, SPS or AUD header byte is odd (types
 * 1, 5, 7, 9), which as an H.265 header would mean nuh_layer_id >= 32: never seen in practice.
 * H.265 decides on VPS/SPS/AUD/IDR/CRA headers with nuh_layer_id 0 and temporal id 1.
 */
export function guessCodecFromNal(buf: Buffer, offset: number, available: number): VideoCodec | undefined {
  if (available < 2) return undefined;
  const b0 = buf[offset]!;
  const b1 = buf[offset + 1]!;
  if (b0 & 0x80) return undefined;
  const h265Type = (b0 >> 1) & 0x3f;
  if ((b0 & 0x01) === 0 && b1 === 0x01 && [19, 20, 21, 32, 33, 35].includes(h265Type)) return 'h265';
  const h264Type = b0 & 0x1f;
  const nri = (b0 >> 5) & 0x03;
  if (h264Type === 7 && nri !== 0) return 'h264';
  if (h264Type === 9 && nri === 0) return 'h264';
  if (h264Type === 5 && nri !== 0) return 'h264';
  if (h264Type === 1) return 'h264';
  return undefined;
}
