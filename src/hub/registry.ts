import { GatewayError, errorMessage } from '../core/errors';
import { TypedEmitter } from '../core/events';
import type { Logger } from '../core/log';
import type { Sink } from '../core/sink';
import type { Publisher, Source } from '../core/source';
import { Admission } from './admission';
import { DemandManager, type OnDemandFactory } from './demand';
import { DEFAULT_GOP_LIMITS } from './gop-cache';
import { assertStreamPath } from './path';
import { Stream, type StreamOptions, type StreamSnapshot } from './stream';
import { DEFAULT_BACKPRESSURE, Subscriber, type SubscriberStats } from './subscriber';

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
  readonly events = new TypedEmitter<RegistryEvents>();
  /** Who may publish and play (hub rule 11): every entry point awaits `admission.check` first. */
  readonly admission: Admission;
  private readonly streams = new Map<string, Stream>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly subscribers = new Map<string, { subscriber: Subscriber; path: string }>();
  private readonly demand: DemandManager;
  private sequence = 0;
  private closed = false;

  constructor(
    private readonly options: RegistryOptions,
    private readonly log: Logger,
  ) {
    this.admission = new Admission(log.child({ component: 'admission' }));
    this.demand = new DemandManager({ closeAfterMs: options.closeAfterMs }, { onStartFailed: (path, err) => this.failWaiters(path, err) }, log.child({ component: 'demand' }));
  }

  /** Registers an on-demand source factory for a path pattern such as `rtp/*`. */
  registerOnDemand(pattern: string, factory: OnDemandFactory): () => void {
    return this.demand.register(pattern, factory);
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
      stream = new Stream(path, this.options, { onEnded: (s, reason) => this.streamEnded(s, reason), onReadersChanged: (s) => this.readersChanged(s.path) }, this.log.child({ stream: path }));
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
  subscribe(path: string, sink: Sink, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<Subscription> {
    try {
      assertStreamPath(path);
      if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
    } catch (err) {
      return Promise.reject(err);
    }
    const id = `sub-${++this.sequence}`;
    const onDemand = this.demand.matches(path);
    const waitMs = options.waitMs ?? (onDemand ? this.options.startTimeoutMs : this.options.waitForPublisherMs);
    return new Promise<Subscription>((resolve, reject) => {
      let settled = false;
      const log = this.log.child({ session: id, stream: path, protocol: safeProtocol(sink) });
      const subscriber = new Subscriber(id, sink, this.options.backpressure, log, (s, reason) => {
        this.subscriberClosed(s, path);
        this.events.emit('viewerEnd', { ...s.stats(), path, reason, started: s.isStarted, endedAt: Date.now() });
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new GatewayError('CLOSED', reason));
        }
      });
      const fail = (err: GatewayError): void => {
        options.signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        subscriber.abandon(err.message);
        reject(err);
      };
      const timer = setTimeout(() => {
        const code = onDemand ? 'SOURCE_START_TIMEOUT' : 'STREAM_NOT_FOUND';
        const message = onDemand
          ? `stream ${path}: its on-demand source did not start within ${waitMs} ms`
          : this.streams.has(path)
            ? `stream ${path} has no playable track yet (waited ${waitMs} ms)`
            : `stream ${path} not found (waited ${waitMs} ms for a publisher)`;
        fail(new GatewayError(code, message));
      }, waitMs);
      const onAbort = (): void => fail(new GatewayError('CLOSED', 'the viewer left before the stream started'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const onStarted = (): void => {
        options.signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        log.info('viewer started');
        resolve({ id, path, close: (reason = 'closed by the viewer') => subscriber.close(reason) });
      };
      this.subscribers.set(id, { subscriber, path });
      const stream = this.streams.get(path);
      if (stream) {
        stream.attach(subscriber, onStarted);
      } else {
        let set = this.waiters.get(path);
        if (!set) this.waiters.set(path, (set = new Set()));
        set.add({ subscriber, onStarted, fail });
        this.readersChanged(path);
      }
      if (options.signal?.aborted) onAbort();
    });
  }

  get(path: string): StreamSnapshot | undefined {
    return this.streams.get(path)?.snapshot();
  }

  list(): StreamSnapshot[] {
    return [...this.streams.values()].map((s) => s.snapshot());
  }

  /** Readers of `path`, including viewers still waiting for it to start. */
  readerCount(path: string): number {
    return (this.streams.get(path)?.readerCount ?? 0) + (this.waiters.get(path)?.size ?? 0);
  }

  /** Per-stream shared state for muxers (hub rule 9); undefined if the stream is gone. */
  shared<T extends object>(path: string, key: string, create: () => T): T | undefined {
    return this.streams.get(path)?.shared(key, create);
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
        out.push({ id: snap.publisher.id, role: 'publisher', path: snap.path, protocol: snap.publisher.kind, remote: snap.publisher.remote, since: snap.publisher.since, bytes: snap.bytesIn });
      }
      for (const s of snap.subscribers) {
        out.push({ id: s.id, role: 'subscriber', path: snap.path, protocol: s.protocol, remote: s.remote, since: s.since, bytes: s.bytesOut, framesDropped: s.framesDropped });
      }
    }
    return out;
  }

  /** Closes one session: a viewer, or a publisher (which ends its stream). */
  closeSession(id: string, reason = 'closed by the API'): boolean {
    const entry = this.subscribers.get(id);
    if (entry) {
      entry.subscriber.close(reason);
      return true;
    }
    for (const stream of this.streams.values()) {
      if (stream.publisherSessionId === id && stream.hasPublisher) {
        stream.kick(reason);
        return true;
      }
    }
    return false;
  }

  /** Ends every stream and on-demand source. */
  async close(reason = 'shutting down'): Promise<void> {
    this.closed = true;
    for (const [path] of this.waiters) this.failWaiters(path, new GatewayError('CLOSED', reason));
    for (const stream of [...this.streams.values()]) stream.kick(reason);
    await this.demand.close();
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

  private readersChanged(path: string): void {
    const count = this.readerCount(path);
    this.demand.readersChanged(path, count);
    this.events.emit('readers', path, count);
  }

  private streamEnded(stream: Stream, reason: string): void {
    if (this.streams.get(stream.path) === stream) this.streams.delete(stream.path);
    this.events.emit('streamClosed', stream.snapshot(), reason);
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
