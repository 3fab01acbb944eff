/** The hub's clock: every Frame timestamp is in 90 kHz ticks. */
export const HUB_CLOCK_RATE = 90_000;
export const TICKS_PER_MS = 90;

/** Converts a timestamp in `clockRate` units to 90 kHz ticks, rounding to the nearest tick. */
export function toHubTicks(value: number, clockRate: number): number {
  if (clockRate === HUB_CLOCK_RATE) return value;
  return Math.round((value * HUB_CLOCK_RATE) / clockRate);
}

/** Converts 90 kHz ticks to `clockRate` units (for muxers with a 1 kHz clock such as FLV/RTMP). */
export function fromHubTicks(ticks: number, clockRate: number): number {
  if (clockRate === HUB_CLOCK_RATE) return ticks;
  return Math.round((ticks * clockRate) / HUB_CLOCK_RATE);
}

export function ticksToMs(ticks: number): number {
  return Math.round(ticks / TICKS_PER_MS);
}

/**
 * Unwraps a wrapping counter (RTP 32-bit timestamps, MPEG 33-bit PTS, RTMP 32-bit ms) into a
 * monotonic-ish absolute value: each new raw value is placed at the unwrapped value closest to
 * the previous one, so both forward wraps and small backward steps are handled.
 */
export class WrapUnwrapper {
  private readonly modulus: number;
  private last: number | undefined;

  constructor(bits: number) {
    this.modulus = 2 ** bits;
  }

  unwrap(raw: number): number {
    if (this.last === undefined) {
      this.last = raw;
      return raw;
    }
    const half = this.modulus / 2;
    const lastRaw = ((this.last % this.modulus) + this.modulus) % this.modulus;
    let delta = raw - lastRaw;
    if (delta > half) delta -= this.modulus;
    else if (delta < -half) delta += this.modulus;
    this.last += delta;
    return this.last;
  }

  reset(): void {
    this.last = undefined;
  }
}

export interface TimestampNormalizerOptions {
  /** A dts step larger than this (ticks) is a jump: the timeline is re-anchored. Default 10 s. */
  maxJumpTicks?: number;
  /** The step assumed when a jump or rollback is smoothed over. Default 40 ms. */
  defaultStepTicks?: number;
}

/**
 * Normalises one source's timestamps (hub rule 5): rebases the first dts to `startAt`, keeps dts
 * non-decreasing per track, and turns jumps, rollbacks and restarts at 0 into a continuous
 * timeline. All tracks of one source share an offset, so A/V sync survives a re-anchor.
 */
export class TimestampNormalizer {
  private readonly maxJump: number;
  private readonly defaultStep: number;
  private offset: number | undefined;
  private readonly lastDts = new Map<number, number>();
  private readonly lastStep = new Map<number, number>();
  private lastOut = 0;
  private started = false;

  constructor(
    private startAt = 0,
    options: TimestampNormalizerOptions = {},
  ) {
    this.maxJump = options.maxJumpTicks ?? 10 * 90_000;
    this.defaultStep = options.defaultStepTicks ?? 40 * 90;
  }

  /** Continue after this dts (for a source restart): the next frame lands one step later. */
  continueAfter(dts: number): void {
    this.startAt = dts + this.defaultStep;
    this.offset = undefined;
    this.lastDts.clear();
    this.lastStep.clear();
    this.started = false;
  }

  /** Maps a source (dts, pts) to hub (dts, pts). `pts - dts` (composition offset) is preserved. */
  normalize(trackId: number, dts: number, pts: number): { dts: number; pts: number } {
    const cto = Math.max(0, pts - dts);
    if (this.offset === undefined) {
      this.offset = this.startAt - dts;
    }
    let out = dts + this.offset;
    const prev = this.lastDts.get(trackId);
    const reference = prev ?? (this.started ? this.lastOut : undefined);
    if (reference !== undefined) {
      const step = out - reference;
      if (step < 0 || step > this.maxJump) {
        // A rollback or a jump: re-anchor every track so that this frame follows the last one.
        const smooth = this.lastStep.get(trackId) ?? this.defaultStep;
        const target = reference + (step < 0 && prev === undefined ? 0 : smooth);
        this.offset += target - out;
        out = target;
      } else if (prev !== undefined && step > 0) {
        this.lastStep.set(trackId, step);
      }
    }
    this.lastDts.set(trackId, out);
    if (out > this.lastOut) this.lastOut = out;
    this.started = true;
    return { dts: out, pts: out + cto };
  }
}
