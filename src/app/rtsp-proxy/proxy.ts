import { GatewayError, errorMessage } from '../../core/errors';
import type { TlsTrust } from '../../protocols/shared/tls';
import type { Logger } from '../../core/log';
import type { Publisher, Source } from '../../core/source';
import { describeTrack, type Track } from '../../core/track';
import type { Registry } from '../../hub/registry';
import { RateMeter } from '../../hub/rate-meter';
import type { RtspFailure } from '../../protocols/rtsp/errors';
import type { RtspTransportChoice } from '../../protocols/rtsp/pull';
import type { UdpPortAllocator } from '../../protocols/rtsp/udp';
import { Backoff } from '../backoff';
import { createPullClient, maskPullUrl, pullProtocolOf, type PullClient } from './pull-clients';

/** One proxy as declared in config or through the API. */
export interface ProxySpec {
  readonly id: string;
  readonly path: string;
  readonly url: string;
  readonly transport: RtspTransportChoice;
  readonly onDemand: boolean;
  /** config file, POST /api/proxies, or an on_stream_not_found hook answer (kept in memory only). */
  readonly origin: 'config' | 'api' | 'hook';
}

/** From the `rtsp:` config section, in ms. */
export interface ProxySettings {
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly udpFallbackMs: number;
  readonly stallTimeoutMs: number;
  readonly reorderDelayMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly userAgent: string;
  /** What rtmps:// and https:// pulls trust (tls.ca, relay.tlsCaFile). */
  readonly tls?: TlsTrust;
}

export type ProxyState = 'idle' | 'connecting' | 'playing' | 'retrying' | 'stopped';

export interface ProxyError {
  /** auth, unreachable, not-found, unsupported-codec, timeout, protocol, transport, busy; RTMP also refused, tls, rejected, bad-name, reset, stall */
  readonly kind: RtspFailure | 'busy' | string;
  /** Plain words: "auth failed: user "admin" was refused (401 Unauthorized)". */
  readonly message: string;
  readonly at: number;
}

export interface ProxyStatus {
  readonly state: ProxyState;
  readonly lastError?: ProxyError;
  /** Connection attempts after the first one. */
  readonly reconnects: number;
  readonly bitrateKbps: number;
  readonly bytesIn: number;
  readonly transport?: 'tcp' | 'udp';
  /** `h264 1920x1080`, `aac 16000Hz 1ch` once known, else the SDP codecs. */
  readonly tracks: readonly string[];
  /** ms since the epoch when the current connection started playing. */
  readonly playingSince?: number;
}

export interface ProxyDeps {
  readonly registry: Pick<Registry, 'publish' | 'get' | 'admission'>;
  readonly log: Logger;
  readonly udpPorts?: UdpPortAllocator;
  /** The state or the last error changed (the manager's `changed` event). */
  readonly onChange?: () => void;
}

/**
 * One pull proxy (RTSP, RTMP/RTMPS or HTTP-FLV, by the URL's scheme): connects, publishes into the hub at its path, and reconnects with
 * exponential backoff (reconnectMin doubling up to reconnectMax) after a camera reboot, a
 * network cut or a stuck stream. Each reconnect publishes again on the same path, so viewers
 * stay (within hub.reconnectGrace) and their timestamps continue from the publisher's resumeDts.
 */
export class RtspProxy {
  private state: ProxyState = 'idle';
  private pull: PullClient | undefined;
  private publisher: Publisher | undefined;
  private announced: string[] = [];
  private lastError: ProxyError | undefined;
  private reconnects = 0;
  private readonly backoff: Backoff;
  private playingSince: number | undefined;
  private bytesBefore = 0;
  private readonly rate = new RateMeter(2000);
  private readonly log: Logger;

  constructor(
    readonly spec: ProxySpec,
    private readonly settings: ProxySettings,
    private readonly deps: ProxyDeps,
  ) {
    this.backoff = new Backoff({ minMs: settings.reconnectMinMs, maxMs: settings.reconnectMaxMs });
    this.log = deps.log.child({ proxy: spec.id, stream: spec.path });
  }

  private setState(next: ProxyState): void {
    if (next === this.state) return;
    this.state = next;
    this.deps.onChange?.();
  }

  private setError(error: ProxyError): void {
    this.lastError = error;
    this.deps.onChange?.();
  }

  /**
   * First connection of an on-demand start: resolves when playing, rejects with
   * SOURCE_START_FAILED whose message says why. Already running: resolves at once.
   */
  async startOnce(): Promise<void> {
    if (this.state === 'playing' || this.state === 'retrying' || this.state === 'connecting') return;
    this.setState('connecting');
    try {
      await this.connect();
    } catch (err) {
      if ((this.state as ProxyState) !== 'stopped') this.setState('idle');
      throw new GatewayError('SOURCE_START_FAILED', `proxy ${this.spec.path}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Always-on: connect now and keep reconnecting until stopped. Never rejects. */
  startAlways(): void {
    if (this.state !== 'idle') return;
    this.setState('connecting');
    this.connect().catch(() => this.scheduleRetry());
  }

  /** TEARDOWN, end the publisher, no more reconnects. Idempotent. */
  async stop(reason: string): Promise<void> {
    if (this.state === 'stopped') return;
    this.setState('stopped');
    this.backoff.cancel();
    const pull = this.pull;
    this.pull = undefined;
    this.endPublisher(reason);
    await pull?.close(reason);
    this.log.info({ reason }, 'proxy stopped');
  }

  status(): ProxyStatus {
    const bytesIn = this.bytesBefore + (this.pull?.stats().bytes ?? 0);
    const live = this.deps.registry.get(this.spec.path)?.tracks.filter((t) => t.ready);
    const tracks = live && live.length > 0 ? live.map(describeTrack) : this.announced;
    const transport = this.pull?.stats().transport;
    return {
      state: this.state,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      reconnects: this.reconnects,
      bitrateKbps: this.state === 'playing' ? this.rate.sample(bytesIn) : 0,
      bytesIn,
      ...(transport && this.state === 'playing' ? { transport } : {}),
      tracks: this.state === 'playing' ? tracks : [],
      ...(this.playingSince !== undefined && this.state === 'playing' ? { playingSince: this.playingSince } : {}),
    };
  }

  private async connect(): Promise<void> {
    try {
      await this.deps.registry.admission.admit({
        action: 'publish',
        path: this.spec.path,
        protocol: pullProtocolOf(this.spec.url),
        remote: maskPullUrl(this.spec.url),
        query: {},
        internal: true,
      });
    } catch (err) {
      this.noteError(err);
      throw err;
    }
    const pull: PullClient = createPullClient({ url: this.spec.url, transport: this.spec.transport }, this.settings, {
      log: this.log,
      ...(this.deps.udpPorts ? { udpPorts: this.deps.udpPorts } : {}),
      openPublisher: (remote) => this.openPublisher(remote),
      onClose: (err) => this.lost(pull, err),
    });
    this.pull = pull;
    try {
      await pull.start();
      this.announced = pull.announcedCodecs();
    } catch (err) {
      if (this.pull === pull) this.pull = undefined;
      this.noteError(err);
      throw err;
    }
    if ((this.state as ProxyState) === 'stopped') {
      await pull.close('stopped while connecting');
      this.endPublisher('stopped');
      return;
    }
    this.setState('playing');
    this.playingSince = Date.now();
    this.log.info({ url: maskPullUrl(this.spec.url), transport: pull.stats().transport, reconnects: this.reconnects }, 'proxy playing');
  }

  private openPublisher(remote: string): Publisher {
    const kind = this.spec.url.toLowerCase().startsWith('rtsp') ? 'rtsp' : this.spec.url.toLowerCase().startsWith('rtmp') ? 'rtmp-pull' : 'http-flv-pull';
    const source: Source = { kind, remote, close: (reason) => this.kicked(reason) };
    const previous = this.deps.registry.get(this.spec.path)?.tracks ?? [];
    let publisher: Publisher;
    try {
      publisher = this.deps.registry.publish(this.spec.path, source);
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'STREAM_BUSY') {
        throw new GatewayError('STREAM_BUSY', `path ${this.spec.path} already has another publisher`, { cause: err });
      }
      throw err;
    }
    this.publisher = publisher;
    return keepReadyTracks(publisher, previous);
  }

  /** The pull died while playing: end the publisher (viewers wait out the grace) and retry. */
  private lost(pull: PullClient, err: Error): void {
    if (pull !== this.pull || this.state === 'stopped') return;
    this.retire(pull, err.message);
    this.noteError(err);
    this.log.warn({ err: err.message }, 'proxy lost its source: reconnecting');
    this.scheduleRetry();
  }

  /** The hub kicked the stream (API): drop this connection; the backoff loop reconnects. */
  private kicked(reason: string): void {
    const pull = this.pull;
    if (!pull || this.state === 'stopped') return;
    this.retire(pull, reason);
    void pull.close(reason);
    this.scheduleRetry();
  }

  private retire(pull: PullClient, reason: string): void {
    this.bytesBefore += pull.stats().bytes;
    this.pull = undefined;
    if (this.playingSince !== undefined) this.backoff.connectionEnded(Date.now() - this.playingSince);
    this.playingSince = undefined;
    this.endPublisher(reason);
  }

  private scheduleRetry(): void {
    if (this.state === 'stopped') return;
    this.setState('retrying');
    const delay = this.backoff.schedule(() => {
      if (this.state === 'stopped') return;
      this.reconnects++;
      this.setState('connecting');
      this.connect().catch(() => this.scheduleRetry());
    });
    this.log.debug({ delayMs: delay }, 'proxy reconnect scheduled');
  }

  private endPublisher(reason: string): void {
    const publisher = this.publisher;
    this.publisher = undefined;
    publisher?.end(reason);
  }

  private noteError(err: unknown): void {
    const failure = (err as { failure?: unknown }).failure;
    const kind = err instanceof GatewayError && err.code === 'STREAM_BUSY' ? 'busy' : typeof failure === 'string' ? failure : 'protocol';
    this.setError({ kind, message: errorMessage(err), at: Date.now() });
  }
}

/**
 * A reconnect declares its tracks again before their parameter sets arrive. The stream (kept
 * through the grace period) is already serving viewers, and a pending track would reach their
 * muxers as a track without config. Until the new connection has a ready track of the same id
 * and codec, the one from before the reconnect stands in for it.
 */
export function keepReadyTracks(publisher: Publisher, previous: readonly Track[]): Publisher {
  const known = new Map(previous.filter((t) => t.ready).map((t) => [t.id, t]));
  return {
    get path() {
      return publisher.path;
    },
    get resumeDts() {
      return publisher.resumeDts;
    },
    setTracks(tracks) {
      publisher.setTracks(
        tracks.map((track) => {
          if (track.ready) {
            known.set(track.id, track);
            return track;
          }
          const before = known.get(track.id);
          return before && before.codec === track.codec ? before : track;
        }),
      );
    },
    write: (frame) => publisher.write(frame),
    end: (reason) => publisher.end(reason),
    addBytesIn: (bytes) => publisher.addBytesIn(bytes),
  };
}
