import { HUB_CLOCK_RATE, toHubTicks } from '../../core/time';

/**
 * Puts the tracks of one RTSP session on one timeline. Each track's RTP clock starts at a
 * random value (RFC 3550 §5.1), so 90 kHz times of two tracks are unrelated until something
 * ties them: RTCP sender reports map each clock to the sender's NTP wall clock (RFC 3550
 * §6.4.1). Before both tracks have one, arrival time is the best guess; when the reports
 * arrive, the other tracks slide onto the report-based timeline: their timestamps run up to
 * SLEW (10 %) faster or slower until they are there, so that no track ever steps back or jumps
 * (a step back would bunch frames on one timestamp, which players and muxers dislike).
 *
 * Times in and out are 90 kHz ticks on each track's own unwrapped RTP clock (what the rtp/
 * depacketizers emit); the output starts at 0 with the first access unit of the first track.
 */

interface SrMapping {
  /** Sender wall clock (ms since 1970) at `ticks`. */
  readonly ntpMs: number;
  /** The same instant on the track's unwrapped clock, 90 kHz. */
  readonly ticks: number;
}

/** The share of a track's own progress by which a correction may move its timeline. */
const SLEW = 0.1;
/** A report that disagrees with arrival by more than this (ticks, 5 s) is not believed. */
const MAX_CORRECTION_TICKS = 5 * 90_000;

interface TrackState {
  offset?: number;
  /** Where `offset` is sliding to. */
  target?: number;
  /** The last input time, to measure the track's progress. */
  lastIn?: number;
  sr?: SrMapping;
  /** Last raw 32-bit RTP timestamp seen and its unwrapped value (track clock units). */
  lastRaw?: number;
  lastUnwrapped?: number;
  /** Aligned by sender reports (no more corrections). */
  srAligned: boolean;
}

export interface AlignStats {
  /** Tracks moved onto the sender-report timeline, and by how much in total (ms). */
  srCorrections: number;
  srCorrectionMs: number;
}

export class ClockAligner {
  private readonly tracks: TrackState[];
  private reference: number | undefined;
  /** Arrival time (monotonic ms) of the first access unit of the reference track. */
  private originArrival = 0;
  readonly stats: AlignStats = { srCorrections: 0, srCorrectionMs: 0 };

  constructor(
    private readonly clockRates: readonly number[],
    /** A correction smaller than this is not worth a jump (ticks). */
    private readonly minCorrectionTicks = 9 * 90,
  ) {
    this.tracks = clockRates.map(() => ({ srAligned: false }));
  }

  /** Every RTP packet's raw timestamp, in arrival order, so that reports can be placed. */
  notePacket(track: number, rawTimestamp: number): void {
    const state = this.tracks[track];
    if (!state) return;
    if (state.lastRaw === undefined || state.lastUnwrapped === undefined) {
      state.lastRaw = rawTimestamp >>> 0;
      state.lastUnwrapped = rawTimestamp >>> 0;
      return;
    }
    state.lastUnwrapped += int32(rawTimestamp - state.lastRaw);
    state.lastRaw = rawTimestamp >>> 0;
  }

  /** The track restarted (new SSRC, new clock): place it again from its next access unit. */
  resetTrack(track: number): void {
    if (this.tracks[track]) this.tracks[track] = { srAligned: false };
  }

  /** A sender report for `track`: its NTP time (ms) matches `rtpTimestamp`. */
  onSenderReport(track: number, ntpMs: number, rtpTimestamp: number): void {
    const state = this.tracks[track];
    if (!state || state.lastRaw === undefined || state.lastUnwrapped === undefined || !Number.isFinite(ntpMs)) return;
    const unwrapped = state.lastUnwrapped + int32(rtpTimestamp - state.lastRaw);
    state.sr = { ntpMs, ticks: toHubTicks(unwrapped, this.clockRates[track]!) };
    this.alignByReports();
  }

  /** Maps a track time (90 kHz, the track's own clock) to the session timeline. */
  align(track: number, ticks: number, arrivalMs: number): number {
    const state = this.tracks[track];
    if (!state) return ticks;
    if (state.offset === undefined) {
      if (this.reference === undefined) {
        this.reference = track;
        this.originArrival = arrivalMs;
        state.offset = -ticks;
      } else {
        const byReports = this.offsetByReports(track);
        state.offset = byReports ?? Math.round((arrivalMs - this.originArrival) * (HUB_CLOCK_RATE / 1000)) - ticks;
        state.srAligned = byReports !== undefined;
      }
    } else if (state.target !== undefined && state.lastIn !== undefined) {
      const budget = Math.max(0, ticks - state.lastIn) * SLEW;
      const diff = state.target - state.offset;
      const step = Math.max(-budget, Math.min(budget, diff));
      state.offset += Math.round(step);
      if (Math.abs(state.target - state.offset) < 1) state.target = undefined;
    }
    state.lastIn = ticks;
    return ticks + state.offset;
  }

  /** The offset that puts `track` on the reference's timeline by their reports, if both have one. */
  private offsetByReports(track: number): number | undefined {
    if (this.reference === undefined) return undefined;
    const ref = this.tracks[this.reference]!;
    const own = this.tracks[track]!;
    if (!ref.sr || !own.sr || ref.offset === undefined) return undefined;
    // Reference timeline position of the instant own.sr describes.
    const refTicksAtOwnSr = ref.sr.ticks + Math.round((own.sr.ntpMs - ref.sr.ntpMs) * (HUB_CLOCK_RATE / 1000));
    return refTicksAtOwnSr + ref.offset - own.sr.ticks;
  }

  private alignByReports(): void {
    if (this.reference === undefined) return;
    this.tracks.forEach((state, track) => {
      if (track === this.reference || state.offset === undefined || state.srAligned) return;
      const offset = this.offsetByReports(track);
      if (offset === undefined) return;
      state.srAligned = true;
      const correction = offset - state.offset;
      if (Math.abs(correction) < this.minCorrectionTicks || Math.abs(correction) > MAX_CORRECTION_TICKS) return;
      state.target = offset;
      this.stats.srCorrections++;
      this.stats.srCorrectionMs += Math.round(correction / 90);
    });
  }
}

function int32(delta: number): number {
  const d = delta >>> 0;
  return d >= 0x8000_0000 ? d - 0x1_0000_0000 : d;
}
