/**
 * One push: a hub stream published to one RTMP/RTMPS target, kept going through cuts. It is a
 * hub reader (an RtmpPushSink subscription) that outlives its connections: the sink drops
 * what the target cannot take, and a lost connection is dialled again with exponential
 * backoff (reconnectMin doubling up to reconnectMax; the count resets once a connection has
 * lasted reconnectMax).
 */
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Registry, Subscription } from '../../hub/registry';
import { RateMeter } from '../../hub/rate-meter';
import { RtmpClient, RtmpClientError, type RtmpFailure } from '../../protocols/rtmp/client';
import { RtmpPushSink, type PushHevcMode } from '../../protocols/rtmp/push-sink';
import { maskRtmpUrl } from '../../protocols/rtmp/url';
import { Backoff } from '../backoff';

/** From the `relay:` config section, in ms and bytes. */
export interface PushSettings {
  readonly connectTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly maxPendingBytes: number;
  readonly chunkSize: number;
  /** PEMs of the CAs trusted for rtmps:// targets besides Node's bundle (tls.ca, relay.tlsCaFile). */
  readonly ca?: readonly string[];
}

export interface PushTarget {
  readonly ruleId: string;
  /** The hub stream pushed, `app/stream`. */
  readonly path: string;
  /** The target with {app} {stream} filled in. */
  readonly url: string;
  readonly hevc: PushHevcMode;
  readonly allowSelfSigned: boolean;
  readonly keepSource: boolean;
}

export type PushState = 'waiting' | 'connecting' | 'pushing' | 'retrying' | 'stopped';

export interface PushStatus {
  readonly path: string;
  /** The URL with its stream key masked. */
  readonly target: string;
  readonly state: PushState;
  readonly lastError?: { readonly kind: RtmpFailure | 'source'; readonly message: string; readonly at: number };
  readonly reconnects: number;
  readonly bytesOut: number;
  readonly bitrateKbps: number;
  readonly framesOut: number;
  readonly framesDropped: number;
  /** ms the current connection has been pushing, 0 when not pushing. */
  readonly uptimeMs: number;
  readonly codecs: readonly string[];
  /** Plain-words remarks: G.711 audio, H.265 signalling, dropped video. */
  readonly notes: readonly string[];
}

export interface PushDeps {
  readonly registry: Pick<Registry, 'subscribe' | 'admission'>;
  readonly log: Logger;
  /** The stream ended and this push has no reason to go on (not keepSource). */
  readonly onFinished: (push: Push) => void;
  /** The state or the last error changed (the manager's `changed` event). */
  readonly onChange?: () => void;
}

export class Push {
  private state: PushState = 'waiting';
  private readonly sink: RtmpPushSink;
  private subscription: Subscription | undefined;
  private subscribing: AbortController | undefined;
  private client: RtmpClient | undefined;
  private lastError: PushStatus['lastError'];
  private reconnects = 0;
  private readonly backoff: Backoff;
  private pushingSince: number | undefined;
  private readonly rate = new RateMeter(2000);
  private readonly log: Logger;
  private serverFourCc: readonly string[] | undefined;

  constructor(
    readonly target: PushTarget,
    private readonly settings: PushSettings,
    private readonly deps: PushDeps,
  ) {
    this.backoff = new Backoff({ minMs: settings.reconnectMinMs, maxMs: settings.reconnectMaxMs });
    this.log = deps.log.child({ push: target.ruleId, stream: target.path, target: maskRtmpUrl(target.url) });
    this.sink = new RtmpPushSink({
      hevcMode: target.hevc,
      maxPendingBytes: settings.maxPendingBytes,
      remote: maskRtmpUrl(target.url),
      onEnd: (reason) => this.sourceEnded(reason),
      onSent: (bytes) => this.rate.add(bytes),
    });
  }

  private setState(next: PushState): void {
    if (next === this.state) return;
    this.state = next;
    this.deps.onChange?.();
  }

  private setError(error: PushStatus['lastError']): void {
    this.lastError = error;
    this.deps.onChange?.();
  }

  /**
   * Subscribes to the stream; the connection follows once the stream is ready. Only a
   * keepSource push counts as a reader: any other one reads the stream while it exists and must
   * not keep an on-demand source pulled after its last viewer left.
   */
  start(): void {
    if (this.state === 'stopped' || this.subscription || this.subscribing) return;
    const abort = new AbortController();
    this.subscribing = abort;
    const request = { action: 'play', path: this.target.path, protocol: 'relay', remote: maskRtmpUrl(this.target.url), query: {}, internal: true } as const;
    this.deps.registry.admission
      .admit(request)
      .then(() =>
        abort.signal.aborted
          ? Promise.reject(new Error('push stopped'))
          : this.deps.registry.subscribe(this.target.path, this.sink, { signal: abort.signal, counted: this.target.keepSource }),
      )
      .then(
        (subscription) => {
          this.subscribing = undefined;
          if (this.state === 'stopped') return subscription.close('push stopped');
          this.subscription = subscription;
          this.connect();
        },
        (err: unknown) => {
          this.subscribing = undefined;
          if (this.state === 'stopped') return;
          this.setError({ kind: 'source', message: `source: ${errorMessage(err)}`, at: Date.now() });
          this.sourceEnded(errorMessage(err));
        },
      );
  }

  stop(reason: string): void {
    if (this.state === 'stopped') return;
    this.setState('stopped');
    this.backoff.cancel();
    this.subscribing?.abort();
    this.dropClient(reason);
    const subscription = this.subscription;
    this.subscription = undefined;
    subscription?.close(reason);
    this.log.info({ reason }, 'push stopped');
  }

  status(): PushStatus {
    const bytesOut = this.sink.bytesOut;
    const pushing = this.state === 'pushing';
    return {
      path: this.target.path,
      target: maskRtmpUrl(this.target.url),
      state: this.state,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      reconnects: this.reconnects,
      bytesOut,
      bitrateKbps: pushing ? this.rate.kbps() : 0,
      framesOut: this.sink.framesOut,
      framesDropped: this.sink.framesDropped,
      uptimeMs: pushing && this.pushingSince !== undefined ? Date.now() - this.pushingSince : 0,
      codecs: this.sink.codecs,
      notes: this.notes(),
    };
  }

  private notes(): string[] {
    const codecs = this.sink.codecs;
    const notes: string[] = [];
    if (codecs.includes('g711a') || codecs.includes('g711u')) {
      notes.push('audio is G.711: FLV carries it (sound format 7/8), but many CDNs and players drop it and play the video silent');
    }
    if (this.sink.videoDropped) notes.push('H.265 video is not sent (hevc: drop): the target gets audio only');
    if (codecs.includes('h265') && this.target.hevc === 'enhanced' && this.serverFourCc && !this.serverFourCc.includes('hvc1')) {
      notes.push('the target did not list hvc1 in its connect answer: it may not take Enhanced RTMP H.265 (try hevc: legacy)');
    }
    return notes;
  }

  private connect(): void {
    if (this.state === 'stopped' || !this.subscription) return;
    this.setState('connecting');
    const h265 = this.sink.codecs.includes('h265') && this.target.hevc === 'enhanced';
    let client: RtmpClient | undefined;
    RtmpClient.open({
      url: this.target.url,
      mode: 'publish',
      log: this.log,
      connectTimeoutMs: this.settings.connectTimeoutMs,
      stallTimeoutMs: this.settings.stallTimeoutMs,
      chunkSize: this.settings.chunkSize,
      maxWriteBufferBytes: this.settings.maxPendingBytes * 4,
      tls: { allowSelfSigned: this.target.allowSelfSigned, ...(this.settings.ca ? { ca: this.settings.ca } : {}) },
      ...(h265 ? { fourCcList: ['hvc1', 'avc1', 'mp4a'] } : {}),
      onClose: (err) => this.lost(client, err),
    }).then(
      (opened) => {
        client = opened;
        if (this.state === 'stopped' || !this.subscription) return opened.close('push stopped');
        this.client = opened;
        this.serverFourCc = opened.serverFourCc;
        this.setState('pushing');
        this.pushingSince = Date.now();
        this.sink.attach(opened);
        this.log.info({ reconnects: this.reconnects }, 'pushing');
      },
      (err: unknown) => this.failed(err),
    );
  }

  private lost(client: RtmpClient | undefined, err: RtmpClientError): void {
    if (client !== this.client || this.state === 'stopped') return;
    this.dropClient(err.message);
    this.failed(err);
  }

  private failed(err: unknown): void {
    if (this.state === 'stopped') return;
    const kind: RtmpFailure = err instanceof RtmpClientError ? err.failure : 'protocol';
    this.setError({ kind, message: errorMessage(err), at: Date.now() });
    this.log.warn({ err: errorMessage(err), kind }, 'push connection failed: retrying');
    this.retryLater(() => this.connect());
  }

  private retryLater(run: () => void): void {
    this.setState('retrying');
    this.backoff.schedule(() => {
      if (this.state === 'stopped') return;
      this.reconnects++;
      run();
    });
  }

  private dropClient(reason: string): void {
    const client = this.client;
    this.client = undefined;
    this.sink.attach(undefined);
    if (this.pushingSince !== undefined) this.backoff.connectionEnded(Date.now() - this.pushingSince);
    this.pushingSince = undefined;
    client?.close(reason);
  }

  /** The stream ended (after the hub's grace) or never came: done, or wait for it again. */
  private sourceEnded(reason: string): void {
    if (this.state === 'stopped') return;
    this.dropClient(`source ended: ${reason}`);
    this.subscription = undefined;
    if (!this.target.keepSource) {
      this.stop(`source ended: ${reason}`);
      this.deps.onFinished(this);
      return;
    }
    this.retryLater(() => {
      this.setState('waiting');
      this.start();
    });
  }
}
