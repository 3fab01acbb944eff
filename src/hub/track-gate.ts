import type { Track } from '../core/track';

export interface TrackGateOptions {
  /**
   * How long (ms, from the first frame) to wait for every declared track to be ready and to
   * have sent a frame. Tracks still missing then are dropped (hub rule 3).
   */
  waitMs: number;
}

export type GateDecision = { open: false } | { open: true; tracks: readonly Track[]; dropped: readonly Track[] };

/**
 * Decides when a stream is ready to be served: every declared track ready and seen, or the
 * wait elapsed with at least one usable track. Audio announced by a PS stream map but never
 * sent is the common case it resolves. Pure: the caller passes the clock.
 */
export class TrackGate {
  private declared: readonly Track[] = [];
  private readonly seen = new Set<number>();
  private firstFrameAt: number | undefined;

  constructor(private readonly options: TrackGateOptions) {}

  setTracks(tracks: readonly Track[]): void {
    this.declared = tracks;
  }

  frameSeen(trackId: number, now: number): void {
    this.seen.add(trackId);
    this.firstFrameAt ??= now;
  }

  hasSeen(trackId: number): boolean {
    return this.seen.has(trackId);
  }

  /** Ms left before `decide` would give up waiting; undefined when no frame arrived yet. */
  remainingMs(now: number): number | undefined {
    return this.firstFrameAt === undefined ? undefined : Math.max(0, this.firstFrameAt + this.options.waitMs - now);
  }

  decide(now: number): GateDecision {
    const usable = this.declared.filter((t) => t.ready && this.seen.has(t.id));
    if (usable.length === 0) return { open: false };
    if (usable.length === this.declared.length) return { open: true, tracks: usable, dropped: [] };
    if (this.firstFrameAt !== undefined && now - this.firstFrameAt >= this.options.waitMs) {
      return { open: true, tracks: usable, dropped: this.declared.filter((t) => !usable.includes(t)) };
    }
    return { open: false };
  }

  reset(): void {
    this.seen.clear();
    this.firstFrameAt = undefined;
  }
}
