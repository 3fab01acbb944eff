import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { RecordingFormat } from '../../../storage/repos/recordings';
import type { OpenSegment, SegmentMeta, SegmentStore } from '../../../storage/recording/segment-store';

/** One unit of media offered to a series: a frame (FLV) or a TS chunk (TS, HLS). */
export interface SeriesUnit {
  /** 90 kHz, the stream's timeline. */
  readonly dts: number;
  /** performance.now() when the source received it. */
  readonly receivedAt: number;
  /** A segment may start here (video keyframe, TS random access point, audio without video). */
  readonly startable: boolean;
  /** Its dts drives durations (video, or audio when there is no video). */
  readonly clock: boolean;
}

export interface SeriesContext {
  readonly store: SegmentStore;
  readonly path: string;
  readonly planId: string | null;
  readonly reason: string;
  readonly segmentMs: () => number;
  /** Bytes not yet on disk above which the series drops to the next startable unit. */
  readonly maxPendingBytes: number;
  /** After a write error, the series waits this long before it opens a new file. */
  readonly retryMs: number;
  readonly log: Logger;
  /** A write failed (the recorder reports it and may ask retention for space). */
  readonly onWriteError: (format: RecordingFormat, err: NodeJS.ErrnoException) => void;
  /** A file was opened or closed, or a write failed: what the recorder's state says changed. */
  readonly onChange?: () => void;
  /**
   * A device's own clip (GB28181 download): the first unit is at this epoch ms and every later
   * one at its media distance from it. The wall clock is never read: a 4x download arrives four
   * times faster than its media time and must be neither re-timed nor cut for it.
   */
  readonly startAtMs?: number;
}

/** A timeline step larger than this between wall clock and media clock is a source restart. */
const MAX_CLOCK_SKEW_MS = 5000;

/**
 * The segments of one format of one recording: opens a file at a startable unit, cuts at the
 * first startable unit after segmentSeconds (or at a requested cut: codec or size change,
 * timeline jump), drops to the next startable unit when the disk falls behind, and after a
 * write error stops until `retryMs` passed. Wall clock: a segment starts at its first unit's
 * receive time, and ends at start + media duration (a device clip: `startAtMs` instead).
 */
export class SegmentSeries {
  private open: OpenSegment | undefined;
  private firstDts = 0;
  private lastDts = 0;
  private step = 0;
  private cutRequested = false;
  private dropping = false;
  private retryAt = 0;
  private continueAtMs: number | undefined;
  /** startAtMs series: the dts of the first unit ever written (the clip's time origin). */
  private originDts: number | undefined;
  private lastEndMs: number | undefined;
  private closing: Promise<unknown>[] = [];
  dropped = 0;
  segments = 0;
  bytesClosed = 0;
  lastError: string | undefined;

  constructor(
    readonly format: RecordingFormat,
    private readonly ctx: SeriesContext,
    private readonly meta: () => Pick<SegmentMeta, 'videoCodec' | 'width' | 'height' | 'audioCodec'>,
  ) {}

  get file(): string | undefined {
    return this.open?.file;
  }

  get bytes(): number {
    return this.bytesClosed + (this.open?.bytes ?? 0);
  }

  get pendingBytes(): number {
    return this.open?.pendingBytes ?? 0;
  }

  /** Where the media written so far ends (epoch ms; the device's clock for a startAtMs series). */
  get mediaEndMs(): number | undefined {
    return this.open ? this.open.meta.startMs + this.mediaMs() : this.lastEndMs;
  }

  /** The next startable unit begins a new segment (tracks changed). */
  requestCut(): void {
    this.cutRequested = true;
  }

  /**
   * Offers one unit; `data(opening)` builds its bytes (with the file's header first when
   * `opening`). Returns whether it was written.
   */
  push(unit: SeriesUnit, data: (opening: boolean) => readonly Buffer[]): boolean {
    if (this.open && this.open.error) this.fail(this.open.error);
    if (!this.open) return this.tryOpen(unit, data);
    const cut = unit.startable ? this.shouldCut(unit) : undefined;
    if (cut) {
      this.cut(unit, cut === 'continuous');
      return this.tryOpen(unit, data);
    }
    const behind = this.open.pendingBytes > this.ctx.maxPendingBytes;
    if (this.dropping || behind) {
      if (!this.dropping) this.ctx.log.warn({ format: this.format, pending: this.open.pendingBytes }, 'recording falls behind the disk: dropping to the next keyframe');
      // Resume only at a keyframe the disk has room for: a keyframe taken while still behind
      // would grow the backlog by one GOP head per GOP for as long as the disk stalls.
      this.dropping = behind || !unit.startable;
      if (this.dropping) {
        this.dropped++;
        return false;
      }
    }
    this.write(unit, data(false));
    return true;
  }

  /** Closes the open segment; `ended`: the recording stops (HLS: ENDLIST). */
  async close(ended: boolean): Promise<void> {
    const open = this.open;
    this.open = undefined;
    this.ctx.onChange?.();
    if (open) {
      this.lastEndMs = open.meta.startMs + this.mediaMs();
      this.closing.push(this.finish(open, ended, this.lastEndMs));
    }
    await Promise.allSettled(this.closing);
    this.closing = [];
  }

  private tryOpen(unit: SeriesUnit, data: (opening: boolean) => readonly Buffer[]): boolean {
    if (!unit.startable || performance.now() < this.retryAt) {
      this.dropped++;
      return false;
    }
    // A segment that continues the previous one starts where it ended (media time); only the
    // first one, and one after a jump, takes the wall clock of its first frame.
    const startMs = this.continueAtMs ?? this.clipTimeOf(unit) ?? Math.round(performance.timeOrigin + unit.receivedAt);
    this.continueAtMs = undefined;
    try {
      this.open = this.ctx.store.open({ path: this.ctx.path, format: this.format, startMs, planId: this.ctx.planId, reason: this.ctx.reason, ...this.meta() }, () => undefined);
      this.ctx.onChange?.();
    } catch (err) {
      this.fail(err as NodeJS.ErrnoException);
      return false;
    }
    this.segments++;
    this.firstDts = unit.dts;
    this.lastDts = unit.dts;
    this.step = 0;
    this.cutRequested = false;
    this.dropping = false;
    this.write(unit, data(true));
    return true;
  }

  /** A startAtMs series: the device time of a unit (its media distance from the clip's first unit). */
  private clipTimeOf(unit: SeriesUnit): number | undefined {
    if (this.ctx.startAtMs === undefined) return undefined;
    this.originDts ??= unit.dts;
    return this.ctx.startAtMs + Math.round((unit.dts - this.originDts) / 90);
  }

  private write(unit: SeriesUnit, buffers: readonly Buffer[]): void {
    const open = this.open!;
    if (unit.clock && unit.dts > this.lastDts) {
      this.step = unit.dts - this.lastDts;
      this.lastDts = unit.dts;
    }
    open.write(buffers, open.meta.startMs + this.mediaMs(), unit.startable && unit.clock);
  }

  private mediaMs(): number {
    return Math.round((this.lastDts + this.step - this.firstDts) / 90);
  }

  /** Whether to cut before `unit`: 'continuous' (same timeline) or 'jump' (re-anchor on the wall clock). */
  private shouldCut(unit: SeriesUnit): 'continuous' | 'jump' | undefined {
    const elapsedMs = (unit.dts - this.firstDts) / 90;
    const wallMs = performance.timeOrigin + unit.receivedAt - this.open!.meta.startMs;
    if (this.ctx.startAtMs === undefined && Math.abs(wallMs - elapsedMs) > MAX_CLOCK_SKEW_MS) return 'jump';
    if (this.cutRequested || elapsedMs >= this.ctx.segmentMs()) return 'continuous';
    return undefined;
  }

  private cut(next: SeriesUnit, continuous: boolean): void {
    const open = this.open!;
    this.open = undefined;
    this.ctx.onChange?.();
    // The segment ends where the next one begins on the media clock: no gap, no overlap.
    const endMs = open.meta.startMs + Math.round((Math.max(next.dts, this.lastDts) - this.firstDts) / 90);
    if (continuous) this.continueAtMs = endMs;
    this.lastEndMs = endMs;
    this.closing.push(this.finish(open, false, endMs));
    if (this.closing.length > 4) this.closing = this.closing.slice(-4);
  }

  private async finish(open: OpenSegment, ended: boolean, endMs: number | undefined): Promise<void> {
    try {
      await open.close(endMs, ended);
      this.bytesClosed += open.bytes;
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err), file: open.file }, 'recording segment did not close cleanly');
    }
  }

  private fail(err: NodeJS.ErrnoException): void {
    this.lastError = `${err.code ?? 'ERROR'}: ${errorMessage(err)}`;
    this.ctx.onChange?.();
    this.retryAt = performance.now() + this.ctx.retryMs;
    this.ctx.log.error({ format: this.format, err: this.lastError }, 'recording write failed: this format stops and retries later');
    if (this.open) {
      const open = this.open;
      this.open = undefined;
      this.ctx.onChange?.();
      this.closing.push(this.finish(open, true, undefined));
    }
    this.ctx.onWriteError(this.format, err);
  }
}
