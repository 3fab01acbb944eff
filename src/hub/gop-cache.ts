import type { Frame } from '../core/frame';
import { isVideoCodec } from '../core/codec';

export interface GopCacheLimits {
  /** GOPs kept; a new viewer starts at the newest one. */
  maxGops: number;
  maxFrames: number;
  maxBytes: number;
}

export const DEFAULT_GOP_LIMITS: GopCacheLimits = { maxGops: 1, maxFrames: 1500, maxBytes: 16 * 1024 * 1024 };

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

  constructor(private readonly limits: GopCacheLimits = DEFAULT_GOP_LIMITS) {}

  push(frame: Frame): void {
    const video = isVideoCodec(frame.codec);
    if (video) this.hasVideo = true;
    if (video && frame.keyframe) {
      this.gops.push([]);
      if (this.gops.length > this.limits.maxGops) this.dropOldestGop();
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

  private dropOldestGop(): void {
    const dropped = this.gops.shift();
    if (!dropped) return;
    this.frameCount -= dropped.length;
    for (const frame of dropped) this.byteCount -= frame.byteLength;
  }
}
