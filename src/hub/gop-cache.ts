import type { Frame } from '../core/frame';
import { isVideoCodec } from '../core/codec';

export interface GopCacheLimits {
  /** GOPs kept; a new viewer starts at the newest one. */
  maxGops: number;
  maxFrames: number;
  maxBytes: number;
  /**
   * Older GOPs kept so that a reader may start this far back (`since`): the TS burst of
   * http.tsBurstSeconds. 0 (default): only `maxGops`. Still bounded by maxFrames and maxBytes.
   */
  historyMs?: number;
}

export const DEFAULT_GOP_LIMITS: GopCacheLimits = { maxGops: 1, maxFrames: 1500, maxBytes: 16 * 1024 * 1024 };

const TICKS_PER_MS = 90;

/**
 * The frames since the last video keyframe(s), so that a viewer joining mid-stream starts on a
 * keyframe at once (hub rule 2). Holds references to the frames' Buffers (they are immutable).
 * A GOP that outgrows the frame or byte bound is dropped whole: viewers then wait for the next
 * keyframe rather than get a GOP without its start. Audio-only streams keep the last frames.
 */
export class GopCache {
  private gops: Frame[][] = [];
  private frameCount = 0;
  private byteCount = 0;
  private hasVideo = false;

  private readonly historyTicks: number;

  constructor(private readonly limits: GopCacheLimits = DEFAULT_GOP_LIMITS) {
    this.historyTicks = (limits.historyMs ?? 0) * TICKS_PER_MS;
  }

  push(frame: Frame): void {
    const video = isVideoCodec(frame.codec);
    if (video) this.hasVideo = true;
    if (video && frame.keyframe) {
      this.gops.push([]);
      this.dropBeyondHistory(frame.dts);
    } else if (this.gops.length === 0) {
      if (this.hasVideo) return; // no keyframe yet: nothing a viewer could start on
      this.gops.push([]);
    }
    this.gops[this.gops.length - 1]!.push(frame);
    this.frameCount++;
    this.byteCount += frame.byteLength;
    this.enforceBounds();
  }

  /** The frames a new viewer gets, oldest first, starting at the newest GOP's keyframe. */
  snapshot(): readonly Frame[] {
    return this.gops.length ? this.gops[this.gops.length - 1]! : [];
  }

  /**
   * The frames from the newest GOP that starts at least `ms` before the newest frame (or the
   * oldest GOP kept, when none is that old), oldest first. `since(0)` is `snapshot()`.
   */
  since(ms: number): readonly Frame[] {
    const newest = this.gops[this.gops.length - 1];
    const lastDts = newest?.[newest.length - 1]?.dts;
    if (lastDts === undefined || ms <= 0) return this.snapshot();
    let first = 0;
    for (let i = this.gops.length - 1; i >= 0; i--) {
      first = i;
      if (this.gops[i]![0]!.dts <= lastDts - ms * TICKS_PER_MS) break;
    }
    return this.gops.slice(first).flat();
  }

  clear(): void {
    this.gops = [];
    this.frameCount = 0;
    this.byteCount = 0;
  }

  get frames(): number {
    return this.frameCount;
  }

  get bytes(): number {
    return this.byteCount;
  }

  private enforceBounds(): void {
    while (this.frameCount > this.limits.maxFrames || this.byteCount > this.limits.maxBytes) {
      if (!this.hasVideo && this.gops.length === 1) {
        // Audio only: trim the oldest frames one by one.
        const dropped = this.gops[0]!.shift()!;
        this.frameCount--;
        this.byteCount -= dropped.byteLength;
        continue;
      }
      this.dropOldestGop();
      if (this.gops.length === 0) return;
    }
  }

  /** At a new keyframe: drops the oldest GOP while more than maxGops are kept and the next one still starts far enough back for the history. */
  private dropBeyondHistory(keyDts: number): void {
    while (this.gops.length > this.limits.maxGops) {
      const next = this.gops[1]?.[0];
      if (this.historyTicks > 0 && (next === undefined || next.dts > keyDts - this.historyTicks)) return;
      this.dropOldestGop();
    }
  }

  private dropOldestGop(): void {
    const dropped = this.gops.shift();
    if (!dropped) return;
    this.frameCount -= dropped.length;
    for (const frame of dropped) this.byteCount -= frame.byteLength;
  }
}
