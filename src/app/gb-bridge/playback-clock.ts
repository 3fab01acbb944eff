import { shiftFrame, type Frame } from '../../core/frame';
import type { Track } from '../../core/track';
import type { FramePublisher } from '../../../rtp/frame-assembler';

/**
 * Rescales a playback's timestamps by its speed. At speed N a device sends N times faster but
 * keeps its timestamps (wvp#797, #1570), so players would still play at 1x and fall behind;
 * dividing the time since the last speed change by N makes them really play N times faster.
 * One linear map for every track keeps audio and video in step; each track's dts stays
 * non-decreasing across a change. Pure: no timers.
 */
export class PlaybackClock implements FramePublisher {
  private speed = 1;
  /** Source and output time of the last speed change, 90 kHz. */
  private sourceAnchor: number | undefined;
  private outputAnchor = 0;
  private lastSource: number | undefined;
  private lastOutput = 0;
  private readonly lastDts = new Map<number, number>();

  constructor(private readonly inner: FramePublisher) {}

  get resumeDts(): number {
    return this.inner.resumeDts;
  }

  get currentSpeed(): number {
    return this.speed;
  }

  setTracks(tracks: readonly Track[]): void {
    this.inner.setTracks(tracks);
  }

  /** From the next frame on, time runs `speed` times faster. */
  setSpeed(speed: number): void {
    if (!(speed > 0) || speed === this.speed) return;
    if (this.lastSource !== undefined) {
      this.sourceAnchor = this.lastSource;
      this.outputAnchor = this.lastOutput;
    }
    this.speed = speed;
  }

  /** Output dts of a source dts. */
  map(dts: number): number {
    if (this.sourceAnchor === undefined) {
      this.sourceAnchor = dts;
      this.outputAnchor = dts;
    }
    return Math.round(this.outputAnchor + (dts - this.sourceAnchor) / this.speed);
  }

  write(frame: Frame): void {
    if (this.speed === 1 && this.sourceAnchor === undefined) {
      this.remember(frame.dts, frame.dts);
      this.lastDts.set(frame.trackId, frame.dts);
      this.inner.write(frame);
      return;
    }
    let dts = this.map(frame.dts);
    const previous = this.lastDts.get(frame.trackId);
    if (previous !== undefined && dts < previous) dts = previous;
    const pts = dts + Math.max(0, Math.round((frame.pts - frame.dts) / this.speed));
    this.lastDts.set(frame.trackId, dts);
    this.remember(frame.dts, dts);
    this.inner.write(shiftFrame(frame, dts, pts));
  }

  private remember(source: number, output: number): void {
    if (this.lastSource === undefined || source >= this.lastSource) {
      this.lastSource = source;
      this.lastOutput = output;
    }
  }
}
