/**
 * Live HLS segmentation of a TS feed: segments start at random access chunks (keyframes with
 * PAT/PMT), are cut at the first one after `targetSeconds`, and a sliding window of them is
 * kept in memory. Spec: RFC 8216 §3 (segments), §6.2.2 (live playlists).
 */

/** What the segmenter needs of a TS chunk (a `TsChunk` qualifies). */
export interface SegmentInput {
  readonly data: Buffer;
  readonly randomAccess: boolean;
  /** 90 kHz. */
  readonly dts: number;
  readonly video: boolean;
  readonly discontinuity: boolean;
}

export interface HlsSegment {
  /** Media sequence number. */
  readonly sequence: number;
  /** Seconds. */
  readonly duration: number;
  /** The whole segment (one Buffer, shared by every request for it). */
  readonly data: Buffer;
  /** EXT-X-DISCONTINUITY before this segment. */
  readonly discontinuity: boolean;
  /** Discontinuity sequence of this segment (RFC 8216 §4.3.3.3). */
  readonly discontinuitySequence: number;
  /** Wall clock (ms since the epoch) of its first frame, for EXT-X-PROGRAM-DATE-TIME. */
  readonly programDateTime?: number;
}

export interface SegmenterOptions {
  readonly targetSeconds: number;
  /** Segments listed in the playlist. */
  readonly windowSegments: number;
  /** Segments kept downloadable after they left the playlist (RFC 8216 §6.2.2). */
  readonly extraSegments?: number;
  /** A segment is cut here even without a keyframe (a stream that never sends one). */
  readonly maxSegmentSeconds?: number;
  readonly maxSegmentBytes?: number;
  /** First media sequence number. */
  readonly firstSequence?: number;
}

interface OpenSegment {
  parts: Buffer[];
  bytes: number;
  firstDts: number;
  lastDts: number;
  /** Dts of the previous clock chunk, to estimate the last frame's duration. */
  step: number;
  discontinuity: boolean;
  programDateTime?: number;
}

export class HlsSegmenter {
  private readonly done: HlsSegment[] = [];
  private open: OpenSegment | undefined;
  private nextSequence: number;
  private discontinuitySequence = 0;
  private pendingDiscontinuity = false;
  private maxDurationSeen = 0;
  private droppedChunks = 0;
  private hasVideoClock = false;
  private readonly keep: number;
  private readonly maxSeconds: number;
  private readonly maxBytes: number;

  constructor(private readonly options: SegmenterOptions) {
    this.nextSequence = options.firstSequence ?? 0;
    this.keep = options.windowSegments + (options.extraSegments ?? 2);
    this.maxSeconds = options.maxSegmentSeconds ?? Math.max(30, options.targetSeconds * 3);
    this.maxBytes = options.maxSegmentBytes ?? 64 * 1024 * 1024;
  }

  /** Completed segments still downloadable, oldest first. */
  get segments(): readonly HlsSegment[] {
    return this.done;
  }

  /** The segments the playlist lists (the last `windowSegments`). */
  get window(): readonly HlsSegment[] {
    return this.done.slice(-this.options.windowSegments);
  }

  /** EXT-X-TARGETDURATION: every EXTINF rounded is at most this (RFC 8216 §4.3.3.1); never shrinks. */
  get targetDuration(): number {
    return Math.max(1, Math.round(this.options.targetSeconds), Math.round(this.maxDurationSeen));
  }

  /** Chunks dropped because no segment could start with them (before the first keyframe). */
  get dropped(): number {
    return this.droppedChunks;
  }

  /** Bytes held: completed segments plus the open one. */
  get bytes(): number {
    return this.done.reduce((n, s) => n + s.data.length, 0) + (this.open?.bytes ?? 0);
  }

  segment(sequence: number): HlsSegment | undefined {
    const first = this.done[0];
    if (!first) return undefined;
    return this.done[sequence - first.sequence];
  }

  /**
   * Adds a chunk. `wallClockMs` is when its frame was received (for EXT-X-PROGRAM-DATE-TIME).
   * Returns the segment it completed, if any.
   */
  push(chunk: SegmentInput, wallClockMs?: number): HlsSegment | undefined {
    if (chunk.discontinuity) this.pendingDiscontinuity = true;
    const open = this.open;
    if (!open) {
      if (!chunk.randomAccess) {
        this.droppedChunks++;
        return undefined;
      }
      this.start(chunk, wallClockMs);
      return undefined;
    }
    const clock = this.isClock(chunk);
    const elapsed = clock ? (chunk.dts - open.firstDts) / 90_000 : 0;
    const cutHere =
      (chunk.randomAccess && (elapsed >= this.options.targetSeconds || this.pendingDiscontinuity)) || elapsed >= this.maxSeconds || open.bytes + chunk.data.length > this.maxBytes;
    let completed: HlsSegment | undefined;
    if (cutHere) {
      completed = this.close(clock ? chunk.dts : undefined);
      this.start(chunk, wallClockMs);
      return completed;
    }
    this.append(open, chunk, clock);
    return completed;
  }

  /** The source ended: the open segment is completed (its last frame's duration estimated). */
  flush(): HlsSegment | undefined {
    return this.open ? this.close(undefined) : undefined;
  }

  /** The next segment starts a new timeline (source restarted): EXT-X-DISCONTINUITY before it. */
  markDiscontinuity(): void {
    this.flush();
    this.pendingDiscontinuity = true;
  }

  /** Durations follow the video dts when there is video, else the audio dts. */
  private isClock(chunk: SegmentInput): boolean {
    if (chunk.video) this.hasVideoClock = true;
    return chunk.video || !this.hasVideoClock;
  }

  private start(chunk: SegmentInput, wallClockMs: number | undefined): void {
    const discontinuity = this.pendingDiscontinuity && (this.done.length > 0 || this.nextSequence > (this.options.firstSequence ?? 0));
    if (discontinuity) this.discontinuitySequence++;
    this.pendingDiscontinuity = false;
    this.isClock(chunk);
    this.open = { parts: [chunk.data], bytes: chunk.data.length, firstDts: chunk.dts, lastDts: chunk.dts, step: 0, discontinuity, programDateTime: wallClockMs };
  }

  private append(open: OpenSegment, chunk: SegmentInput, clock: boolean): void {
    open.parts.push(chunk.data);
    open.bytes += chunk.data.length;
    if (clock && chunk.dts > open.lastDts) {
      open.step = chunk.dts - open.lastDts;
      open.lastDts = chunk.dts;
    }
  }

  private close(nextDts: number | undefined): HlsSegment {
    const open = this.open!;
    this.open = undefined;
    const endDts = nextDts ?? open.lastDts + open.step;
    const duration = Math.max(0, endDts - open.firstDts) / 90_000;
    const segment: HlsSegment = {
      sequence: this.nextSequence++,
      duration,
      data: open.parts.length === 1 ? open.parts[0]! : Buffer.concat(open.parts, open.bytes),
      discontinuity: open.discontinuity,
      discontinuitySequence: this.discontinuitySequence,
      programDateTime: open.programDateTime,
    };
    if (duration > this.maxDurationSeen) this.maxDurationSeen = duration;
    this.done.push(segment);
    while (this.done.length > this.keep) this.done.shift();
    return segment;
  }
}
