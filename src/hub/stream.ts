import type { Frame } from '../core/frame';
import type { Logger } from '../core/log';
import type { StreamInfo } from '../core/sink';
import type { Publisher, Source, SourceDescription } from '../core/source';
import type { Track } from '../core/track';
import { StreamFeeds } from './feeds';
import { GopCache, type GopCacheLimits } from './gop-cache';
import { RateMeter } from './rate-meter';
import { Subscriber, type BackpressureOptions, type SubscriberStats } from './subscriber';
import { TrackGate } from './track-gate';

export interface StreamOptions {
  gop: GopCacheLimits;
  backpressure: BackpressureOptions;
  /** Track gate wait (hub rule 3), ms. */
  trackWaitMs: number;
  /** Viewers stay this long (ms) after the publisher leaves, waiting for it to come back. */
  reconnectGraceMs: number;
}

export interface StreamHooks {
  onEnded(stream: Stream, reason: string): void;
  onReadersChanged(stream: Stream): void;
}

export type StreamState = 'live' | 'grace' | 'ended';

export interface StreamSnapshot {
  path: string;
  state: StreamState;
  ready: boolean;
  tracks: Track[];
  publisher: (SourceDescription & { id: string; since: number }) | null;
  readers: { total: number; byProtocol: Record<string, number> };
  bytesIn: number;
  bytesOut: number;
  bitrateInKbps: number;
  bitrateOutKbps: number;
  framesIn: number;
  framesDropped: number;
  uptimeMs: number;
  gopCache: { frames: number; bytes: number };
  subscribers: SubscriberStats[];
}

/** 3600 ticks = 40 ms: where a reconnecting publisher continues after the last frame. */
const RESUME_STEP_TICKS = 3600;

/**
 * One live stream: its publisher, tracks, GOP cache, track gate and subscribers. Survives a
 * publisher reconnect within the grace period (hub rule 6): viewers stay and timestamps go on.
 */
export class Stream {
  readonly createdAt = Date.now();
  private stateValue: StreamState = 'live';
  private source: Source | undefined;
  private publisherId = '';
  private publisherSince = 0;
  private epoch = 0;
  private tracksById = new Map<number, Track>();
  private servedIds = new Set<number>();
  private gateOpen = false;
  private gateTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly gate: TrackGate;
  private readonly gop: GopCache;
  private readonly subscribers = new Set<Subscriber>();
  private readonly pendingStarts = new Map<Subscriber, () => void>();
  private readonly lastDts = new Map<number, number>();
  private readonly feeds: StreamFeeds;
  private maxDts = -RESUME_STEP_TICKS;
  private bytesIn = 0;
  private framesIn = 0;
  private framesDroppedHere = 0;
  private closedBytesOut = 0;
  private closedDrops = 0;
  private readonly rateIn = new RateMeter();
  private readonly rateOut = new RateMeter();

  constructor(
    readonly path: string,
    private readonly options: StreamOptions,
    private readonly hooks: StreamHooks,
    readonly log: Logger,
  ) {
    this.gate = new TrackGate({ waitMs: options.trackWaitMs });
    this.gop = new GopCache(options.gop);
    this.feeds = new StreamFeeds(path, log);
  }

  get state(): StreamState {
    return this.stateValue;
  }

  get ready(): boolean {
    return this.gateOpen;
  }

  /** Counted subscribers (a shared feed's own subscription is not a reader). */
  get readerCount(): number {
    let count = 0;
    for (const subscriber of this.subscribers) if (subscriber.counted) count++;
    return count;
  }

  /** Feeds open on this stream (for tests and stats). */
  get feedCount(): number {
    return this.feeds.size;
  }

  get hasPublisher(): boolean {
    return this.stateValue === 'live';
  }

  get publisherSessionId(): string {
    return this.publisherId;
  }

  /** The tracks viewers get: those the gate let through, as long as they are ready. */
  get servedTracks(): Track[] {
    return [...this.servedIds].map((id) => this.tracksById.get(id)).filter((t): t is Track => t !== undefined && t.ready);
  }

  /** Attaches a new publisher (first one, or a reconnect within the grace period). */
  attachPublisher(id: string, source: Source): Publisher {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    const epoch = ++this.epoch;
    this.source = source;
    this.publisherId = id;
    this.publisherSince = Date.now();
    this.stateValue = 'live';
    this.gop.clear();
    this.lastDts.clear();
    const isCurrent = (): boolean => epoch === this.epoch && this.stateValue === 'live';
    const resumeDts = this.maxDts + RESUME_STEP_TICKS;
    this.log.info({ publisher: id, kind: source.kind, remote: source.remote, resumeDts }, 'publisher attached');
    return {
      path: this.path,
      resumeDts,
      setTracks: (tracks) => {
        if (isCurrent()) this.setTracks(tracks);
      },
      write: (frame) => {
        if (isCurrent()) this.write(frame);
      },
      end: (reason) => {
        if (isCurrent()) this.publisherEnded(reason);
      },
      addBytesIn: (bytes) => {
        if (!isCurrent()) return;
        this.bytesIn += bytes;
        this.rateIn.add(bytes);
      },
    };
  }

  /** Adds a viewer. `onStarted` runs once the gate is open and the GOP cache was replayed. */
  attach(subscriber: Subscriber, onStarted: () => void): void {
    this.subscribers.add(subscriber);
    this.hooks.onReadersChanged(this);
    if (this.gateOpen) this.startSubscriber(subscriber, onStarted);
    else this.pendingStarts.set(subscriber, onStarted);
  }

  /** Called by the Subscriber when it closes. */
  detach(subscriber: Subscriber): void {
    if (!this.subscribers.delete(subscriber)) return;
    this.pendingStarts.delete(subscriber);
    this.feeds.releaseAll(subscriber);
    const stats = subscriber.stats();
    this.closedBytesOut += stats.bytesOut;
    this.closedDrops += stats.framesDropped;
    this.hooks.onReadersChanged(this);
    if (this.stateValue === 'grace' && this.subscribers.size === 0) this.end('publisher gone and no viewer left');
  }

  /** Closes the publisher (kick) and ends the stream at once, without a grace period. */
  kick(reason: string): void {
    const source = this.source;
    this.end(reason);
    source?.close(reason);
  }

  end(reason: string): void {
    if (this.stateValue === 'ended') return;
    this.stateValue = 'ended';
    this.epoch++;
    clearTimeout(this.graceTimer);
    clearTimeout(this.gateTimer);
    for (const subscriber of [...this.subscribers]) subscriber.close(reason);
    this.gop.clear();
    this.feeds.closeAll();
    this.log.info({ reason }, 'stream ended');
    this.hooks.onEnded(this, reason);
  }

  snapshot(): StreamSnapshot {
    const all = [...this.subscribers].map((s) => ({ counted: s.counted, stats: s.stats() }));
    const subscribers = all.filter((s) => s.counted).map((s) => s.stats);
    const byProtocol: Record<string, number> = {};
    let bytesOut = this.closedBytesOut;
    let drops = this.closedDrops + this.framesDroppedHere;
    for (const { stats: s } of all) {
      bytesOut += s.bytesOut;
      drops += s.framesDropped;
    }
    for (const s of subscribers) {
      byProtocol[s.protocol] = (byProtocol[s.protocol] ?? 0) + 1;
    }
    const source = this.source;
    return {
      path: this.path,
      state: this.stateValue,
      ready: this.gateOpen,
      tracks: this.gateOpen ? this.servedTracks : [...this.tracksById.values()],
      publisher: source && this.stateValue === 'live' ? { id: this.publisherId, kind: source.kind, remote: source.remote, since: this.publisherSince } : null,
      readers: { total: subscribers.length, byProtocol },
      bytesIn: this.bytesIn,
      bytesOut,
      bitrateInKbps: this.rateIn.kbps(),
      bitrateOutKbps: this.rateOut.kbps(),
      framesIn: this.framesIn,
      framesDropped: drops,
      uptimeMs: Date.now() - this.createdAt,
      gopCache: { frames: this.gop.frames, bytes: this.gop.bytes },
      subscribers,
    };
  }

  private setTracks(tracks: readonly Track[]): void {
    const before = this.servedTracks;
    this.tracksById = new Map(tracks.map((t) => [t.id, this.gateOpen ? this.keepReady(t) : t]));
    this.gate.setTracks(tracks);
    if (!this.gateOpen) {
      this.checkGate();
      return;
    }
    const after = this.servedTracks;
    const changed = after.length !== before.length || after.some((t, i) => t !== before[i]);
    if (changed && after.length > 0) {
      this.log.info({ tracks: after.map((t) => t.codec) }, 'tracks changed');
      for (const subscriber of this.subscribers) subscriber.tracksChanged(after);
    }
  }

  /**
   * While viewers are served, a track re-declared without its config (a reconnecting source
   * announces its tracks before the parameter sets arrive) keeps its last ready value, so that
   * sinks only ever see ready tracks. A different codec is a new track and waits to be ready.
   */
  private keepReady(track: Track): Track {
    if (track.ready) return track;
    const previous = this.tracksById.get(track.id);
    return previous?.ready && previous.codec === track.codec ? previous : track;
  }

  private write(input: Frame): void {
    const track = this.tracksById.get(input.trackId);
    if (!track || !track.ready || (this.gateOpen && !this.servedIds.has(input.trackId))) {
      this.framesDroppedHere++;
      return;
    }
    const frame = this.monotonic(input);
    this.framesIn++;
    if (frame.dts > this.maxDts) this.maxDts = frame.dts;
    if (!this.gateOpen) {
      this.gop.push(frame);
      this.gate.frameSeen(frame.trackId, performance.now());
      this.checkGate();
      return;
    }
    this.gop.push(frame);
    let delivered = 0;
    for (const subscriber of this.subscribers) if (subscriber.deliver(frame)) delivered++;
    if (delivered > 0) this.rateOut.add(frame.byteLength * delivered);
  }

  /** Safety net behind the source adapters (hub rule 5): dts never goes back on a track. */
  private monotonic(frame: Frame): Frame {
    const last = this.lastDts.get(frame.trackId);
    this.lastDts.set(frame.trackId, Math.max(frame.dts, last ?? frame.dts));
    if (last === undefined || frame.dts >= last) return frame;
    return { ...frame, dts: last, pts: Math.max(frame.pts, last) };
  }

  private checkGate(): void {
    const now = performance.now();
    const decision = this.gate.decide(now);
    if (!decision.open) {
      const remaining = this.gate.remainingMs(now);
      if (remaining !== undefined && !this.gateTimer) {
        this.gateTimer = setTimeout(() => {
          this.gateTimer = undefined;
          if (this.stateValue !== 'ended' && !this.gateOpen) this.checkGate();
        }, remaining + 1);
      }
      return;
    }
    clearTimeout(this.gateTimer);
    this.gateTimer = undefined;
    this.gateOpen = true;
    this.servedIds = new Set(decision.tracks.map((t) => t.id));
    if (decision.dropped.length) {
      this.log.warn({ dropped: decision.dropped.map((t) => ({ id: t.id, codec: t.codec })) }, 'track gate: dropping tracks that never became ready');
    }
    this.log.info({ tracks: decision.tracks.map((t) => t.codec) }, 'stream ready');
    for (const [subscriber, onStarted] of [...this.pendingStarts]) this.startSubscriber(subscriber, onStarted);
  }

  private startSubscriber(subscriber: Subscriber, onStarted: () => void): void {
    this.pendingStarts.delete(subscriber);
    const info: StreamInfo = { path: this.path, tracks: this.servedTracks, feed: (key) => this.feeds.lease(key, subscriber) };
    const cached = this.gop.since(subscriber.historyMs).filter((f) => this.servedIds.has(f.trackId));
    if (subscriber.start(info, cached)) onStarted();
  }

  private publisherEnded(reason: string): void {
    this.log.info({ reason, viewers: this.subscribers.size }, 'publisher left');
    if (this.subscribers.size === 0 || this.options.reconnectGraceMs <= 0) {
      this.end(reason);
      return;
    }
    this.stateValue = 'grace';
    this.graceTimer = setTimeout(() => this.end(`${reason} (publisher did not come back)`), this.options.reconnectGraceMs);
  }
}
