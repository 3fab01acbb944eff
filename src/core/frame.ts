import type { Codec } from './codec';

/**
 * One access unit. Plain and immutable once written to the hub: every sink shares the same
 * Buffers, so nobody may mutate `units` or their bytes.
 */
export interface Frame {
  readonly trackId: number;
  readonly codec: Codec;
  /** Decode and presentation time in 90 kHz ticks, pts >= dts. */
  readonly dts: number;
  readonly pts: number;
  /** For video: an IDR (H.264) or IRAP (H.265) access unit. Audio frames are always keyframes. */
  readonly keyframe: boolean;
  /** Video: NAL units without start codes or length prefixes. Audio: one raw access unit. */
  readonly units: readonly Buffer[];
  /** Sum of the unit lengths. */
  readonly byteLength: number;
  /** Monotonic ms (performance.now()) when the source received it, for latency statistics. */
  readonly receivedAt: number;
}

export function unitsByteLength(units: readonly Buffer[]): number {
  let total = 0;
  for (const unit of units) total += unit.length;
  return total;
}

export function makeFrame(fields: Omit<Frame, 'byteLength'> & { byteLength?: number }): Frame {
  return { ...fields, byteLength: fields.byteLength ?? unitsByteLength(fields.units) };
}

/** Returns a frame shifted in time (publisher reconnect, demand restarts). Buffers are shared. */
export function shiftFrame(frame: Frame, dts: number, pts: number): Frame {
  return { ...frame, dts, pts };
}
