import { GatewayError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Track } from '../../core/track';
import { HlsSegmenter, type SegmenterOptions } from '../../formats/hls/segmenter';
import type { TsChunk, TsConsumer } from '../../formats/mpegts/ts-feed';
import type { TsAttachment, TsFeeds } from '../../formats/mpegts/ts-feeds';

interface Waiter {
  readonly count: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The live HLS of one stream: a consumer of the stream's shared TS feed that cuts segments and
 * keeps the window in memory. It outlives a source restart: when the feed ends, the open segment
 * is closed, the next request attaches again and the new segments follow an EXT-X-DISCONTINUITY.
 */
export class HlsMuxer implements TsConsumer {
  readonly segmenter: HlsSegmenter;
  lastRequestAt: number;
  /** Requests being answered: the muxer is not idle meanwhile. */
  inFlight = 0;
  private attachment: TsAttachment | undefined;
  private attaching: Promise<TsAttachment> | undefined;
  private lastError: unknown;
  private tracksValue: readonly Track[] = [];
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  constructor(
    readonly path: string,
    private readonly feeds: TsFeeds,
    options: SegmenterOptions,
    now: number,
    private readonly log: Logger,
    /** Pinned muxers (hls.alwaysRemux) are not closed for want of requests while the stream lives. */
    readonly pinned = false,
  ) {
    this.segmenter = new HlsSegmenter(options);
    this.lastRequestAt = now;
  }

  /** Tracks of the TS (what the master playlist announces). */
  get tracks(): readonly Track[] {
    return this.tracksValue;
  }

  get attached(): boolean {
    return this.attachment !== undefined;
  }

  /** Attaches to the TS feed unless attached or attaching; resolves when the feed started. */
  ensureFeed(): Promise<void> {
    if (this.closed) return Promise.reject(new GatewayError('CLOSED', `HLS of ${this.path} is closed`));
    if (this.attachment) return Promise.resolve();
    if (!this.attaching) {
      const attaching = this.feeds.attach(this.path, this);
      this.attaching = attaching;
      attaching.then(
        (attachment) => {
          this.attaching = undefined;
          if (this.closed) {
            attachment.detach();
            return;
          }
          this.attachment = attachment;
          this.tracksValue = attachment.feed.tracks;
          this.lastError = undefined;
          this.log.info({ tracks: this.tracksValue.map((t) => t.codec) }, 'hls muxer attached to the TS feed');
        },
        (err: unknown) => {
          this.attaching = undefined;
          this.lastError = err;
          this.log.debug({ err: errorMessage(err) }, 'hls muxer could not attach');
          this.settleWaiters(err);
        },
      );
    }
    return this.attaching.then(() => undefined);
  }

  /**
   * Resolves once `count` segments exist, or when `timeoutMs` passed with at least one; rejects
   * with the feed's error (stream not found, ...) or TIMEOUT when there is none.
   */
  waitForSegments(count: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.segmenter.segments.length >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (fn: () => void): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        fn();
      };
      const waiter: Waiter = { count, resolve: () => done(resolve), reject: (err) => done(() => reject(err)) };
      const onAbort = (): void => waiter.reject(new GatewayError('CLOSED', 'the viewer left'));
      const timer = setTimeout(() => {
        if (this.segmenter.segments.length > 0) waiter.resolve();
        else waiter.reject(this.lastError ?? new GatewayError('TIMEOUT', `HLS of ${this.path}: no segment within ${timeoutMs} ms (keyframe interval too long?)`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  onChunk(chunk: TsChunk): void {
    const segment = this.segmenter.push(chunk, performance.timeOrigin + chunk.receivedAt);
    if (!segment) return;
    const available = this.segmenter.segments.length;
    for (const waiter of [...this.waiters]) if (available >= waiter.count) waiter.resolve();
  }

  onEnd(reason: string): void {
    this.attachment = undefined;
    const segment = this.segmenter.flush();
    this.segmenter.markDiscontinuity();
    this.log.info({ reason, lastSegment: segment?.sequence }, 'hls muxer: the stream ended; the next request attaches again');
    if (this.segmenter.segments.length > 0) for (const waiter of [...this.waiters]) waiter.resolve();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const attachment = this.attachment;
    this.attachment = undefined;
    attachment?.detach();
    this.settleWaiters(new GatewayError('CLOSED', `HLS of ${this.path} closed: ${reason}`));
    this.log.info({ reason, segments: this.segmenter.segments.length }, 'hls muxer closed');
  }

  private settleWaiters(err: unknown): void {
    for (const waiter of [...this.waiters]) {
      if (this.segmenter.segments.length > 0) waiter.resolve();
      else waiter.reject(err);
    }
  }
}
