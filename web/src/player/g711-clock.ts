/**
 * Keeping the decoded G.711 in step with the <video> (pure arithmetic, tested in Node).
 *
 * The audio feed carries each frame's dts on the stream clock; the video's FLV tags carry the
 * same clock (dts / 90 ms), and the player maps it to `currentTime` by subtracting the first
 * frame it got. That base is not exposed, so it is measured: while live, the newest audio frame
 * and the end of the video's buffer are both at the stream's live edge, and their difference is
 * the base. The median of recent samples rides out the player's append bursts.
 */

/** Samples kept for the median (about 5 s of 20-40 ms frames). */
const SAMPLES = 160;

export class VideoClockMap {
  private readonly samples: number[] = [];
  private exact: number | undefined;

  /** A known base (stream ms at currentTime 0) from the player, which wins over estimates. */
  setExactBase(baseMs: number | undefined): void {
    this.exact = baseMs;
  }

  /** Adds one estimate: the end of the newest audio frame (stream ms) and the video's buffered end (s). */
  addSample(audioEndMs: number, videoBufferedEndS: number): void {
    if (!Number.isFinite(videoBufferedEndS) || videoBufferedEndS <= 0) return;
    this.samples.push(audioEndMs - videoBufferedEndS * 1000);
    if (this.samples.length > SAMPLES) this.samples.shift();
  }

  /** Stream ms at video currentTime 0, once known. */
  baseMs(): number | undefined {
    if (this.exact !== undefined) return this.exact;
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[sorted.length >> 1];
  }

  reset(): void {
    this.samples.length = 0;
  }
}

export interface ScheduleInput {
  /** The frame's start on the stream clock, ms. */
  frameMs: number;
  baseMs: number;
  /** video.currentTime, s. */
  videoTimeS: number;
  /** AudioContext.currentTime, s. */
  audioNowS: number;
  /** Where the previous scheduled frame ends (AudioContext s), to play frames back to back. */
  nextFreeS: number;
  /** video.playbackRate (media seconds per second); 1 when absent. */
  rate?: number;
}

/** A frame this close to the end of the previous one is joined to it (no click, no gap). */
export const JOIN_TOLERANCE_S = 0.04;
/**
 * Sound this far from the picture (ms, either way) has the frames not yet started placed again:
 * past the join tolerance, inside BT.1359's least detectable offset (45 ms early).
 */
export const RESYNC_MS = 45;
/** Audio more than this ahead of the picture is not scheduled (the video stalled or seeked). */
export const MAX_AHEAD_S = 2;

/**
 * When (AudioContext time) a frame should start so that it sounds with the picture of the same
 * instant, or null to drop it (already late, or too far ahead of a stalled video).
 */
export function scheduleAt(input: ScheduleInput): number | null {
  const rate = input.rate && input.rate > 0 ? input.rate : 1;
  const wanted = input.audioNowS + ((input.frameMs - input.baseMs) / 1000 - input.videoTimeS) / rate;
  const at = Math.abs(wanted - input.nextFreeS) <= JOIN_TOLERANCE_S ? input.nextFreeS : wanted;
  if (at < input.audioNowS || at > input.audioNowS + MAX_AHEAD_S) return null;
  return at;
}
