import { isVideoCodec } from '../core/codec';
import { errorMessage } from '../core/errors';
import type { Frame } from '../core/frame';
import type { Logger } from '../core/log';
import type { Sink, StreamInfo, TrackSelector } from '../core/sink';
import type { Track } from '../core/track';

export interface BackpressureOptions {
  /** Bytes queued towards the peer above which the viewer is lagging. */
  maxPendingBytes: number;
  /** A viewer lagging this long (ms) is closed. */
  maxLagMs: number;
}

export const DEFAULT_BACKPRESSURE: BackpressureOptions = { maxPendingBytes: 4 * 1024 * 1024, maxLagMs: 10_000 };

/** What one subscription asks for (hub rule 10). */
export interface SubscriberOptions {
  readonly backpressure: BackpressureOptions;
  /** Tracks this subscriber gets; all when absent. */
  readonly tracks?: TrackSelector;
  /**
   * Counted as a reader for demand and in the stream's readers (default). A shared feed's own
   * subscription is not: its consumers are counted, each once.
   */
  readonly counted: boolean;
  /** Replay the GOP cache from this far back (ms, hub `gop.historyMs` bounds it); 0: from the newest keyframe. */
  readonly historyMs?: number;
}

export interface SubscriberStats {
  readonly id: string;
  readonly protocol: string;
  readonly remote?: string;
  readonly since: number;
  readonly bytesOut: number;
  readonly framesOut: number;
  readonly framesDropped: number;
  readonly lagging: boolean;
}

/**
 * One sink attached to one stream, with its own backpressure state (hub rule 4). A lagging
 * viewer drops frames until a keyframe finds its queue drained; lagging too long closes it. An
 * exception thrown by the sink closes this subscriber only (hub rule 8).
 */
export class Subscriber {
  readonly since = Date.now();
  private started = false;
  private closed = false;
  private hasVideo = false;
  private needKeyframe = true;
  /** Frames are being skipped because the viewer lagged; counted as drops. */
  private skipping = false;
  private lagSince: number | undefined;
  private framesOut = 0;
  private framesDropped = 0;
  private selected = new Set<number>();
  private readonly backpressure: BackpressureOptions;
  private logger: Logger | undefined;

  constructor(
    readonly id: string,
    private readonly sink: Sink,
    private readonly options: SubscriberOptions,
    /** The session's child logger, made when first used: a join storm makes hundreds of sessions that never log. */
    private readonly makeLog: () => Logger,
    private readonly onClosed: (subscriber: Subscriber, reason: string) => void,
  ) {
    this.backpressure = options.backpressure;
  }

  private get log(): Logger {
    return (this.logger ??= this.makeLog());
  }

  get counted(): boolean {
    return this.options.counted;
  }

  get historyMs(): number {
    return this.options.historyMs ?? 0;
  }

  get isStarted(): boolean {
    return this.started;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get protocol(): string {
    return this.safeDescribe().protocol;
  }

  /** Starts the sink and replays the GOP cache. Returns false if the sink failed. */
  start(info: StreamInfo, cached: readonly Frame[]): boolean {
    if (this.closed || this.started) return !this.closed;
    this.started = true;
    const tracks = this.select(info.tracks);
    this.hasVideo = tracks.some((t) => isVideoCodec(t.codec));
    this.needKeyframe = this.hasVideo;
    if (!this.call(() => this.sink.onStart({ path: info.path, tracks, feed: (key) => info.feed(key) }))) return false;
    for (const frame of cached) {
      this.deliver(frame);
      if (this.closed) return false;
    }
    if (this.sink.onCacheReplayed && !this.call(() => this.sink.onCacheReplayed?.())) return false;
    return true;
  }

  tracksChanged(tracks: readonly Track[]): void {
    if (!this.started || this.closed) return;
    const selected = this.select(tracks);
    this.hasVideo = selected.some((t) => isVideoCodec(t.codec));
    if (selected.length > 0) this.call(() => this.sink.onTracks(selected));
  }

  /** Hands `frame` to the sink; true if it was delivered (not skipped, dropped or unselected). */
  deliver(frame: Frame): boolean {
    if (!this.started || this.closed || !this.selected.has(frame.trackId)) return false;
    if (this.pendingBytes() > this.backpressure.maxPendingBytes) {
      this.markLagging(frame);
      return false;
    }
    if (this.lagSince !== undefined) {
      this.log.debug({ lagMs: Math.round(performance.now() - this.lagSince), dropped: this.framesDropped }, 'viewer queue drained');
      this.lagSince = undefined;
    }
    if (this.needKeyframe) {
      // Before the first video keyframe (at start, or after skipping) nothing is sent, so that
      // picture and sound start together. Audio-only streams never need one.
      if (!(isVideoCodec(frame.codec) && frame.keyframe)) {
        if (this.skipping) this.dropped(frame);
        return false;
      }
      this.needKeyframe = false;
      this.skipping = false;
    }
    this.framesOut++;
    // Inline rather than through call(): no closure per viewer per frame on the fan-out path.
    try {
      this.sink.onFrame(frame);
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.sink.onEnd(reason);
    } catch (err) {
      this.log.warn({ err }, 'sink failed while ending');
    }
    this.onClosed(this, reason);
  }

  /** Detaches a sink that never started (its wait timed out or failed): the caller answers the peer. */
  abandon(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed(this, reason);
  }

  stats(): SubscriberStats {
    const description = this.safeDescribe();
    return {
      id: this.id,
      protocol: description.protocol,
      remote: description.remote,
      since: this.since,
      bytesOut: description.bytesOut,
      framesOut: this.framesOut,
      framesDropped: this.framesDropped,
      lagging: this.lagSince !== undefined,
    };
  }

  private markLagging(frame: Frame): void {
    const now = performance.now();
    if (this.lagSince === undefined) {
      this.lagSince = now;
      this.log.info({ pendingBytes: this.pendingBytes() }, 'viewer lagging: skipping to the next keyframe');
    }
    this.dropped(frame);
    this.skipping = true;
    this.needKeyframe = this.hasVideo;
    if (now - this.lagSince > this.backpressure.maxLagMs) {
      this.log.warn({ dropped: this.framesDropped }, 'viewer stayed behind: closing');
      this.close(`viewer too slow: lagging for more than ${this.backpressure.maxLagMs} ms`);
    }
  }

  private select(tracks: readonly Track[]): Track[] {
    const wanted = this.options.tracks;
    const selected = wanted ? tracks.filter((t) => this.safeSelect(wanted, t)) : [...tracks];
    this.selected = new Set(selected.map((t) => t.id));
    return selected;
  }

  private safeSelect(wanted: TrackSelector, track: Track): boolean {
    try {
      return wanted(track);
    } catch (err) {
      this.log.warn({ err: errorMessage(err), codec: track.codec }, 'track selector threw: track left out');
      return false;
    }
  }

  private dropped(_frame: Frame): void {
    this.framesDropped++;
  }

  private pendingBytes(): number {
    try {
      return this.sink.pendingBytes();
    } catch {
      return 0;
    }
  }

  private safeDescribe(): ReturnType<Sink['describe']> {
    try {
      return this.sink.describe();
    } catch {
      return { protocol: 'unknown', bytesOut: 0 };
    }
  }

  private call(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  private failed(err: unknown): void {
    this.log.warn({ err, errMessage: errorMessage(err) }, 'sink threw: closing this viewer only');
    this.close(`sink error: ${errorMessage(err)}`);
  }
}
