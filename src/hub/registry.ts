import { GatewayError, errorMessage } from '../core/errors';
import { TypedEmitter } from '../core/events';
import type { Logger } from '../core/log';
import type { Sink, TrackSelector } from '../core/sink';
import type { Publisher, Source } from '../core/source';
import { Admission } from './admission';
import { DemandManager, type DemandRouter, type OnDemandFactory } from './demand';
import { DEFAULT_GOP_LIMITS } from './gop-cache';
import { assertStreamPath, pathPatternToRegExp } from './path';
import { Reader, type ReaderOptions } from './reader';
import { Stream, type StreamOptions, type StreamSnapshot } from './stream';
import { DEFAULT_BACKPRESSURE, Subscriber, type BackpressureOptions, type SubscriberStats } from './subscriber';

export interface RegistryOptions extends StreamOptions {
  /** How long a viewer of an unknown path waits for a publisher before STREAM_NOT_FOUND, ms. */
  waitForPublisherMs: number;
  /** How long a viewer of an on-demand path waits for its source, ms. */
  startTimeoutMs: number;
  /** After the last reader of an on-demand stream leaves, ms before the source is stopped. */
  closeAfterMs: number;
}

export const DEFAULT_REGISTRY_OPTIONS: RegistryOptions = {
  gop: DEFAULT_GOP_LIMITS,
  backpressure: DEFAULT_BACKPRESSURE,
  trackWaitMs: 3000,
  reconnectGraceMs: 10_000,
  waitForPublisherMs: 5000,
  startTimeoutMs: 15_000,
  closeAfterMs: 10_000,
};

export interface RegistryEvents extends Record<string, unknown[]> {
  publish: [path: string, source: Source];
  streamEnd: [path: string, reason: string];
  readers: [path: string, count: number];
  /** A viewer session ended (access log, metrics). */
  viewerEnd: [session: ViewerSessionEnd];
  /** A stream ended: its last numbers (metrics keep the totals). */
  streamClosed: [snapshot: StreamSnapshot, reason: string];
}

export interface ViewerSessionEnd extends SubscriberStats {
  readonly path: string;
  readonly reason: string;
  /** False when the viewer left (or was refused) before the stream started for it. */
  readonly started: boolean;
  readonly endedAt: number;
}

export interface Subscription {
  readonly id: string;
  readonly path: string;
  close(reason?: string): void;
}

export interface SubscribeOptions {
  /** How long to wait for the stream to start, ms (default: by whether the path is on demand). */
  waitMs?: number;
  signal?: AbortSignal;
  /** This subscription's own backpressure (a CDN push is not a browser tile); the hub's otherwise. */
  backpressure?: Partial<BackpressureOptions>;
  /** The tracks it wants (hub rule 10); all when absent. */
  tracks?: TrackSelector;
  /**
   * Counted as a reader (default true). A shared feed subscribes uncounted: its consumers hold
   * reader handles (`registry.reader`) and are counted once each.
   */
  counted?: boolean;
  /** Start the replay this far back (ms) in the GOP cache, as far as `gop.historyMs` kept it (the TS burst); default 0: the newest keyframe. */
  historyMs?: number;
}

export interface SessionSnapshot {
  id: string;
  role: 'publisher' | 'subscriber';
  path: string;
  protocol: string;
  remote?: string;
  since: number;
  bytes: number;
  framesDropped?: number;
}

interface Waiter {
  subscriber: Subscriber;
  onStarted: () => void;
  fail: (err: GatewayError) => void;
}

/** The hub: every source publishes here and every viewer subscribes here. */
export class Registry {
  readonly events: TypedEmitter<RegistryEvents>;
  /** Who may publish and play (hub rule 11): every entry point awaits `admission.check` first. */
  readonly admission: Admission;
  private readonly streams = new Map<string, Stream>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly subscribers = new Map<string, { subscriber: Subscriber; path: string }>();
  private readonly readers = new Map<string, Set<Reader>>();
  private readonly demand: DemandManager;
  private sequence = 0;
  private closed = false;

  constructor(
    private readonly options: RegistryOptions,
    private readonly log: Logger,
  ) {
    this.events = new TypedEmitter<RegistryEvents>((event, err) => log.warn({ event, err: errorMessage(err) }, 'registry event listener threw (ignored)'));
    this.admission = new Admission(log.child({ component: 'admission' }));
    this.demand = new DemandManager(
      { closeAfterMs: options.closeAfterMs },
      { onStartFailed: (path, err) => this.failWaiters(path, err), askAgain: (path) => this.readersChanged(path) },
      log.child({ component: 'demand' }),
    );
  }

  /** Registers an on-demand source factory for a path pattern such as `rtp/*`. */
  registerOnDemand(pattern: string, factory: OnDemandFactory): () => void {
    const off = this.demand.register(pattern, factory);
    // Readers already waiting for a publisher of a path it serves (a proxy made meanwhile, here or on another worker) start it now.
    const serves = pathPatternToRegExp(pattern);
    for (const path of [...this.waiters.keys()]) {
      if (!serves.test(path) || this.streams.get(path)?.hasPublisher) continue;
      this.demand.forgetDeclined(path);
      this.readersChanged(path);
    }
    return off;
  }

  /** Every on-demand start asks `router` first (the cluster seam); returns its remover. */
  routeOnDemand(router: DemandRouter): () => void {
    return this.demand.route(router);
  }

  /** A path whose readers wait for a publisher asks its router again (a publisher appeared on another worker). */
  retryOnDemand(path: string): void {
    if (this.demand.forgetDeclined(path) && !this.streams.get(path)?.hasPublisher) this.readersChanged(path);
  }

  /** True when a registered on-demand source (GB28181 channel, RTSP proxy) serves `path`. */
  hasOnDemandSource(path: string): boolean {
    return this.demand.matches(path);
  }

  /** Starts publishing `path`. Throws STREAM_BUSY if a publisher is live there. */
  publish(path: string, source: Source): Publisher {
    assertStreamPath(path);
    if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
    let stream = this.streams.get(path);
    if (stream?.hasPublisher) {
      throw new GatewayError('STREAM_BUSY', `stream ${path} already has a publisher (${stream.snapshot().publisher?.kind ?? 'unknown'})`);
    }
    const id = `pub-${++this.sequence}`;
    if (!stream) {
      stream = new Stream(
        path,
        this.options,
        { onEnded: (s, reason) => this.streamEnded(s, reason), onReadersChanged: (s) => this.readersChanged(s.path) },
        this.log.child({ stream: path }),
      );
      this.streams.set(path, stream);
    }
    const publisher = stream.attachPublisher(id, source);
    const waiting = this.waiters.get(path);
    if (waiting) {
      this.waiters.delete(path);
      for (const waiter of waiting) stream.attach(waiter.subscriber, waiter.onStarted);
    }
    this.events.emit('publish', path, source);
    return publisher;
  }

  /**
   * Attaches `sink` to `path`. Resolves once the sink was started (tracks ready, GOP cache
   * replayed); rejects with STREAM_NOT_FOUND, SOURCE_START_FAILED or SOURCE_START_TIMEOUT, in
   * which case the sink was never called and the caller answers its peer.
   */
  subscribe(path: string, sink: Sink, options: SubscribeOptions = {}): Promise<Subscription> {
    try {
      this.assertOpen(path);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Subscription>((resolve, reject) => this.startSubscription(path, sink, options, resolve, reject));
  }

  /**
   * A reader that takes no frames from the hub (an HTTP-TS viewer or HLS session fed by the
   * stream's TS feed, a recorder, a push): counted for demand and in the stream's readers from
   * now until `close()`, whether the stream exists yet or not, listed in `sessions()` and
   * closable through `closeSession` (which calls `onClose`).
   */
  reader(path: string, options: ReaderOptions): Reader {
    this.assertOpen(path);
    const reader = new Reader(`rdr-${++this.sequence}`, path, options, (r, reason) => this.readerClosed(r, reason));
    let set = this.readers.get(path);
    if (!set) this.readers.set(path, (set = new Set()));
    set.add(reader);
    this.readersChanged(path);
    return reader;
  }

  get(path: string): StreamSnapshot | undefined {
    const snapshot = this.streams.get(path)?.snapshot();
    return snapshot && this.withReaders(snapshot);
  }

  list(): StreamSnapshot[] {
    return [...this.streams.values()].map((s) => this.withReaders(s.snapshot()));
  }

  /** Readers of `path`: counted subscribers, viewers still waiting for it, reader handles. */
  readerCount(path: string): number {
    let waiting = 0;
    for (const waiter of this.waiters.get(path) ?? []) if (waiter.subscriber.counted) waiting++;
    return (this.streams.get(path)?.readerCount ?? 0) + waiting + (this.readers.get(path)?.size ?? 0);
  }

  /** Disconnects the publisher of `path` and ends the stream. */
  kick(path: string, reason = 'kicked by the API'): boolean {
    const stream = this.streams.get(path);
    if (!stream) return false;
    stream.kick(reason);
    return true;
  }

  sessions(): SessionSnapshot[] {
    const out: SessionSnapshot[] = [];
    for (const stream of this.streams.values()) {
      const snap = stream.snapshot();
      if (snap.publisher) {
        out.push({
          id: snap.publisher.id,
          role: 'publisher',
          path: snap.path,
          protocol: snap.publisher.kind,
          remote: snap.publisher.remote,
          since: snap.publisher.since,
          bytes: snap.bytesIn,
        });
      }
      for (const s of snap.subscribers) {
        out.push({ id: s.id, role: 'subscriber', path: snap.path, protocol: s.protocol, remote: s.remote, since: s.since, bytes: s.bytesOut, framesDropped: s.framesDropped });
      }
    }
    for (const [path, set] of this.readers) {
      for (const r of set) out.push({ id: r.id, role: 'subscriber', path, protocol: r.protocol, remote: r.remote, since: r.since, bytes: r.bytesOut });
    }
    return out;
  }

  /** Closes one session: a viewer, a reader, or a publisher (which ends its stream). */
  closeSession(id: string, reason = 'closed by the API'): boolean {
    const entry = this.subscribers.get(id);
    if (entry) {
      entry.subscriber.close(reason);
      return true;
    }
    for (const set of this.readers.values()) {
      for (const reader of set) {
        if (reader.id !== id) continue;
        reader.end(reason);
        return true;
      }
    }
    for (const stream of this.streams.values()) {
      if (stream.publisherSessionId === id && stream.hasPublisher) {
        stream.kick(reason);
        return true;
      }
    }
    return false;
  }

  /** Ends every stream, reader and on-demand source. */
  async close(reason = 'shutting down'): Promise<void> {
    this.closed = true;
    for (const [path] of this.waiters) this.failWaiters(path, new GatewayError('CLOSED', reason));
    for (const set of [...this.readers.values()]) for (const reader of [...set]) reader.end(reason);
    for (const stream of [...this.streams.values()]) stream.kick(reason);
    await this.demand.close();
  }

  private assertOpen(path: string): void {
    assertStreamPath(path);
    if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
  }

  /** The body of `subscribe`: a Subscriber, its bounded wait, then attach (or wait for a publisher). */
  private startSubscription(path: string, sink: Sink, options: SubscribeOptions, resolve: (s: Subscription) => void, reject: (err: unknown) => void): void {
    const id = `sub-${++this.sequence}`;
    const waitMs = options.waitMs ?? (this.demand.matches(path) && !this.streams.get(path)?.hasPublisher ? this.options.startTimeoutMs : this.options.waitForPublisherMs);
    let sessionLog: Logger | undefined;
    const log = (): Logger => (sessionLog ??= this.log.child({ session: id, stream: path, protocol: safeProtocol(sink) }));
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const subscriberOptions = {
      backpressure: { ...this.options.backpressure, ...options.backpressure },
      tracks: options.tracks,
      counted: options.counted ?? true,
      historyMs: options.historyMs,
    };
    const subscriber = new Subscriber(id, sink, subscriberOptions, log, (s, reason) => {
      this.subscriberClosed(s, path);
      if (s.counted) this.events.emit('viewerEnd', { ...s.stats(), path, reason, started: s.isStarted, endedAt: Date.now() });
      if (settle()) reject(new GatewayError('CLOSED', reason));
    });
    const fail = (err: GatewayError): void => {
      if (!settle()) return;
      subscriber.abandon(err.message);
      reject(err);
    };
    const timer = setTimeout(() => fail(this.waitError(path, waitMs)), waitMs);
    const onAbort = (): void => fail(new GatewayError('CLOSED', 'the viewer left before the stream started'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const onStarted = (): void => {
      if (!settle()) return;
      // Debug, on the parent logger: in a join storm an info line (and a child logger) per viewer
      // cost more than the start itself; the access log has every session at its end.
      this.log.debug({ session: id, stream: path }, 'viewer started');
      resolve({ id, path, close: (reason = 'closed by the viewer') => subscriber.close(reason) });
    };
    this.subscribers.set(id, { subscriber, path });
    this.attachOrWait(path, { subscriber, onStarted, fail });
    if (options.signal?.aborted) onAbort();
  }

  private attachOrWait(path: string, waiter: Waiter): void {
    const stream = this.streams.get(path);
    if (stream) {
      stream.attach(waiter.subscriber, waiter.onStarted);
      return;
    }
    let set = this.waiters.get(path);
    if (!set) this.waiters.set(path, (set = new Set()));
    set.add(waiter);
    this.readersChanged(path);
  }

  /** Why a wait ran out: an on-demand source that is still starting, or no (playable) stream. */
  private waitError(path: string, waitMs: number): GatewayError {
    if (this.demand.state(path) === 'starting') {
      return new GatewayError('SOURCE_START_TIMEOUT', `stream ${path}: its on-demand source did not start within ${waitMs} ms`);
    }
    if (this.streams.has(path)) return new GatewayError('STREAM_NOT_FOUND', `stream ${path} has no playable track yet (waited ${waitMs} ms)`);
    return new GatewayError('STREAM_NOT_FOUND', `stream ${path} not found (waited ${waitMs} ms for a publisher)`);
  }

  private withReaders(snapshot: StreamSnapshot): StreamSnapshot {
    const set = this.readers.get(snapshot.path);
    if (!set || set.size === 0) return snapshot;
    const byProtocol = { ...snapshot.readers.byProtocol };
    const extra = [...set].map((r) => r.stats());
    for (const r of extra) byProtocol[r.protocol] = (byProtocol[r.protocol] ?? 0) + 1;
    return { ...snapshot, readers: { total: snapshot.readers.total + extra.length, byProtocol }, subscribers: [...snapshot.subscribers, ...extra] };
  }

  private readerClosed(reader: Reader, reason: string): void {
    const set = this.readers.get(reader.path);
    if (!set?.delete(reader)) return;
    if (set.size === 0) this.readers.delete(reader.path);
    this.readersChanged(reader.path);
    this.events.emit('viewerEnd', { ...reader.stats(), path: reader.path, reason, started: true, endedAt: Date.now() });
  }

  private subscriberClosed(subscriber: Subscriber, path: string): void {
    this.subscribers.delete(subscriber.id);
    const stream = this.streams.get(path);
    if (stream) stream.detach(subscriber);
    const set = this.waiters.get(path);
    if (set) {
      for (const waiter of set) if (waiter.subscriber === subscriber) set.delete(waiter);
      if (set.size === 0) this.waiters.delete(path);
      this.readersChanged(path);
    }
  }

  private failWaiters(path: string, err: unknown): void {
    const set = this.waiters.get(path);
    if (!set) return;
    const error = err instanceof GatewayError ? err : new GatewayError('SOURCE_START_FAILED', `stream ${path}: source failed to start: ${errorMessage(err)}`, { cause: err });
    for (const waiter of [...set]) waiter.fail(error);
  }

  /**
   * Demand follows the readers (hub rule 7), except that a path with a publisher (ready or not)
   * is never handed to an on-demand factory: its viewers wait for that publisher.
   */
  private readersChanged(path: string): void {
    const count = this.readerCount(path);
    this.demand.readersChanged(path, count, this.streams.get(path)?.hasPublisher ?? false);
    this.events.emit('readers', path, count);
  }

  private streamEnded(stream: Stream, reason: string): void {
    if (this.streams.get(stream.path) === stream) this.streams.delete(stream.path);
    this.events.emit('streamClosed', this.withReaders(stream.snapshot()), reason);
    this.events.emit('streamEnd', stream.path, reason);
    this.readersChanged(stream.path);
  }
}

function safeProtocol(sink: Sink): string {
  try {
    return sink.describe().protocol;
  } catch {
    return 'unknown';
  }
}
