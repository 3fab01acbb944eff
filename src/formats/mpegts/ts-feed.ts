import { GatewayError, errorMessage } from '../../core/errors';
import type { Frame } from '../../core/frame';
import { RateLimitedLog, type Logger } from '../../core/log';
import type { Sink, SinkDescription, StreamInfo } from '../../core/sink';
import type { Track } from '../../core/track';
import { TsMuxer, type TsProgramChange } from './muxer';

/** The TS packets of one frame, as every consumer of a stream receives them. */
export interface TsChunk {
  /** Whole 188-byte packets. Shared by every consumer: never modify. */
  readonly data: Buffer;
  /** Starts with PAT/PMT and a keyframe (or an audio start point without video). */
  readonly randomAccess: boolean;
  /** The frame's dts, 90 kHz (hub timeline). */
  readonly dts: number;
  readonly video: boolean;
  /** First chunk after the program changed (codec or decoder config): a decoder must reset. */
  readonly discontinuity: boolean;
  /** performance.now() when the source received the frame. */
  readonly receivedAt: number;
}

/** Something that reads a stream as TS: an HTTP-TS viewer, the HLS segmenter, a recorder. */
export interface TsConsumer {
  /** Chunks start at a random access chunk; then every chunk follows in order. */
  onChunk(chunk: TsChunk): void;
  /** The stream ended (or the feed was closed); no chunk follows. */
  onEnd(reason: string): void;
}

export interface TsFeedOptions {
  /** Chunks kept from the last random access point for consumers that join (bounded). */
  readonly maxCacheBytes?: number;
  readonly maxCacheChunks?: number;
  readonly audioOnlyPsiIntervalTicks?: number;
  /**
   * Older random access points kept (ms) so that a consumer may start that far back: the burst a
   * TS viewer asks for (http.tsBurstSeconds). 0: only the chunks from the newest one.
   */
  readonly historyMs?: number;
}

interface ConsumerState {
  started: boolean;
  /** How far back (90 kHz ticks) its first chunk may be: its burst. */
  readonly burstTicks: number;
}

const TICKS_PER_MS = 90;

/**
 * One stream muxed to TS once and fanned out (DESIGN hub rule 9). It is a hub Sink: the hub
 * replays its GOP cache into it, so the feed keeps its own cache of chunks from the last random
 * access point (and, with `historyMs`, from older ones: one run of chunks per random access
 * point) and new consumers start there at once, or further back by their burst. Consumers that
 * come before the hub's replay is over start with it (onCacheReplayed), so that a burst is one
 * continuous TS, continuity counters included. A consumer that throws is dropped alone.
 */
export class TsFeed implements Sink {
  private readonly muxer: TsMuxer;
  private readonly consumers = new Map<TsConsumer, ConsumerState>();
  /** Runs of chunks, each from a random access point, oldest first; empty until the first one. */
  private cache: TsChunk[][] = [];
  private cacheBytes = 0;
  private cacheChunks = 0;
  /** The hub's replay is over: chunks go to consumers as they come. */
  private live = false;
  private discontinuityNext = false;
  private started = false;
  private endedReason: string | undefined;
  private failureValue: GatewayError | undefined;
  private tracksValue: readonly Track[] = [];
  private chunksOut = 0;
  private bytesMuxed = 0;
  private skippedLogged = false;
  private readonly muxErrors: RateLimitedLog;
  private readonly maxCacheBytes: number;
  private readonly maxCacheChunks: number;
  private readonly historyTicks: number;

  constructor(
    readonly path: string,
    private readonly log: Logger,
    options: TsFeedOptions = {},
    private readonly onEnded: (feed: TsFeed) => void = () => undefined,
  ) {
    this.muxer = new TsMuxer({ audioOnlyPsiIntervalTicks: options.audioOnlyPsiIntervalTicks });
    this.maxCacheBytes = options.maxCacheBytes ?? 16 * 1024 * 1024;
    this.maxCacheChunks = options.maxCacheChunks ?? 3000;
    this.historyTicks = (options.historyMs ?? 0) * TICKS_PER_MS;
    this.muxErrors = new RateLimitedLog(log.warn.bind(log), 'ts: frame could not be muxed, dropped');
  }

  get ended(): boolean {
    return this.endedReason !== undefined;
  }

  /** Why the feed refused its stream (no track TS can carry), if it did. */
  get failure(): GatewayError | undefined {
    return this.failureValue;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** The tracks carried in the TS (G.711 and extra tracks left out). */
  get tracks(): readonly Track[] {
    return this.tracksValue;
  }

  get consumerCount(): number {
    return this.consumers.size;
  }

  stats(): { chunks: number; bytes: number; skippedFrames: number; cachedBytes: number } {
    return { chunks: this.chunksOut, bytes: this.bytesMuxed, skippedFrames: this.muxer.skippedFrames, cachedBytes: this.cacheBytes };
  }

  /**
   * Adds a consumer: it gets the cached chunks from the last random access point now, or from the
   * newest one at least `burstMs` older than the newest chunk (as far back as the cache holds).
   */
  add(consumer: TsConsumer, burstMs = 0): void {
    if (this.endedReason !== undefined) {
      consumer.onEnd(this.endedReason);
      return;
    }
    const state: ConsumerState = { started: false, burstTicks: Math.max(0, burstMs) * TICKS_PER_MS };
    this.consumers.set(consumer, state);
    if (this.live) this.replay(consumer, state);
  }

  /** Removes a consumer; returns how many are left. */
  remove(consumer: TsConsumer): number {
    this.consumers.delete(consumer);
    return this.consumers.size;
  }

  onStart(info: StreamInfo): void {
    this.started = true;
    this.program(info.tracks);
    if (this.tracksValue.length === 0) {
      throw (this.failureValue = new GatewayError(
        'UNSUPPORTED_CODEC',
        `stream ${this.path} has no track MPEG-TS can carry (${info.tracks.map((t) => t.codec).join(', ') || 'none'})`,
      ));
    }
  }

  onTracks(tracks: readonly Track[]): void {
    if (this.program(tracks).changed) {
      this.discontinuityNext = true;
      this.resetCache();
    }
  }

  onCacheReplayed(): void {
    this.live = true;
    for (const [consumer, state] of [...this.consumers]) this.replay(consumer, state);
  }

  onFrame(frame: Frame): void {
    let muxed;
    try {
      muxed = this.muxer.frame(frame);
    } catch (err) {
      this.muxErrors.hit({ codec: frame.codec, bytes: frame.byteLength, err: errorMessage(err) });
      return;
    }
    if (!muxed) {
      if (!this.skippedLogged) {
        this.skippedLogged = true;
        this.log.info({ codec: frame.codec, trackId: frame.trackId }, 'ts: track left out of MPEG-TS (counted in skippedFrames)');
      }
      return;
    }
    const chunk: TsChunk = {
      data: muxed.data,
      randomAccess: muxed.randomAccess,
      dts: frame.dts,
      video: frame.codec === 'h264' || frame.codec === 'h265',
      discontinuity: this.discontinuityNext && muxed.randomAccess,
      receivedAt: frame.receivedAt,
    };
    if (chunk.discontinuity) this.discontinuityNext = false;
    this.chunksOut++;
    this.bytesMuxed += chunk.data.length;
    this.remember(chunk);
    if (this.live) for (const [consumer, state] of this.consumers) this.deliver(consumer, state, chunk);
  }

  onEnd(reason: string): void {
    if (this.endedReason !== undefined) return;
    this.endedReason = reason;
    this.resetCache();
    const consumers = [...this.consumers.keys()];
    this.consumers.clear();
    for (const consumer of consumers) {
      try {
        consumer.onEnd(reason);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'ts consumer failed while ending');
      }
    }
    this.onEnded(this);
  }

  pendingBytes(): number {
    return 0; // consumers apply backpressure themselves, each on its own socket
  }

  describe(): SinkDescription {
    return { protocol: 'ts-mux', bytesOut: 0 };
  }

  private program(tracks: readonly Track[]): TsProgramChange {
    const change = this.muxer.setTracks(tracks);
    this.tracksValue = this.muxer.streams.map((s) => s.track);
    for (const skipped of change.skipped) {
      this.log.info({ trackId: skipped.trackId, codec: skipped.codec, reason: skipped.reason }, 'ts: track left out of MPEG-TS');
      this.skippedLogged = true;
    }
    return change;
  }

  private remember(chunk: TsChunk): void {
    if (chunk.randomAccess) {
      this.cache.push([]);
      // Older runs go once the next one starts far enough back for the longest burst.
      while (this.cache.length > 1 && this.cache[1]!.length > 0 && this.cache[1]![0]!.dts <= chunk.dts - this.historyTicks) this.dropOldestRun();
      if (this.historyTicks === 0) while (this.cache.length > 1) this.dropOldestRun();
    }
    const run = this.cache[this.cache.length - 1];
    if (!run) return;
    run.push(chunk);
    this.cacheBytes += chunk.data.length;
    this.cacheChunks++;
    while (this.cache.length > 1 && (this.cacheBytes > this.maxCacheBytes || this.cacheChunks > this.maxCacheChunks)) this.dropOldestRun();
    if (this.cacheBytes > this.maxCacheBytes || this.cacheChunks > this.maxCacheChunks) this.resetCache();
  }

  private dropOldestRun(): void {
    for (const chunk of this.cache.shift() ?? []) {
      this.cacheBytes -= chunk.data.length;
      this.cacheChunks--;
    }
  }

  private resetCache(): void {
    this.cache = [];
    this.cacheBytes = 0;
    this.cacheChunks = 0;
  }

  /** The cached chunks a consumer starts with: from the newest run at least its burst older than the newest chunk. */
  private replay(consumer: TsConsumer, state: ConsumerState): void {
    const newest = this.cache[this.cache.length - 1];
    const lastDts = newest?.[newest.length - 1]?.dts;
    if (lastDts === undefined) return;
    let first = this.cache.length - 1;
    while (first > 0 && this.cache[first]![0]!.dts > lastDts - state.burstTicks) first--;
    for (let i = first; i < this.cache.length; i++) for (const chunk of this.cache[i]!) if (!this.deliver(consumer, state, chunk)) return;
  }

  private deliver(consumer: TsConsumer, state: ConsumerState, chunk: TsChunk): boolean {
    if (!state.started) {
      if (!chunk.randomAccess) return true;
      state.started = true;
    }
    try {
      consumer.onChunk(chunk);
      return true;
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'ts consumer threw: dropping it');
      this.consumers.delete(consumer);
      try {
        consumer.onEnd(`consumer error: ${errorMessage(err)}`);
      } catch {
        // already failing
      }
      return false;
    }
  }
}
