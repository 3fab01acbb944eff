import type { Logger } from '../../core/log';
import type { Publisher } from '../../core/source';
import { RtspError } from './errors';
import { MediaPoller } from './media-poll';
import { RtspMediaReceiver, type RtspTrackStats } from './media';
import { RtspClientSession, type RtspSessionInfo, type RtspTransport } from './session';
import type { UdpPortAllocator } from './udp';
import { redactUrl, type Credentials } from './url';

export type RtspTransportChoice = RtspTransport | 'auto';

export interface RtspPullOptions {
  readonly url: string;
  readonly credentials?: Credentials;
  /** `auto`: UDP first, TCP when UDP SETUP is refused or no packet arrives within `udpFallbackMs`. */
  readonly transport: RtspTransportChoice;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly udpFallbackMs: number;
  /** No RTP for this long (after PLAY) is a stuck stream: the pull fails with a `timeout`. */
  readonly stallTimeoutMs: number;
  /** How long a UDP gap is waited for before the packet counts as lost. */
  readonly reorderDelayMs: number;
  readonly userAgent: string;
  readonly log: Logger;
  readonly udpPorts?: UdpPortAllocator;
  /** Called once the transport is settled; frames go to the publisher it returns. */
  readonly openPublisher: (info: RtspPullInfo) => Publisher;
  /** The pull died after `start()` resolved. Not called after `close()`. */
  readonly onClose: (err: RtspError) => void;
}

export type RtspPullInfo = RtspSessionInfo;

export interface RtspPullStats {
  readonly transport?: RtspTransport;
  readonly bytes: number;
  readonly tracks: readonly RtspTrackStats[];
  readonly srCorrections: number;
}

/** Packets that arrive before the publisher is open (the PLAY answer and media share a chunk). */
const MAX_EARLY_PACKETS = 4096;
const MAX_EARLY_BYTES = 8 * 1024 * 1024;
const TICK_MS = 1000;
/** Spec: RFC 3550 §6.2: reports every 5 s (the minimum interval). */
const REPORT_EVERY_TICKS = 5;

/**
 * One RTSP pull into the hub: an RtspClientSession for the control and transport, an
 * RtspMediaReceiver for the media, the UDP-then-TCP fallback, a watchdog for stuck streams and
 * the periodic receiver reports. Reconnecting is the owner's business (a new RtspPull).
 */
export class RtspPull {
  private session: RtspClientSession | undefined;
  private media: RtspMediaReceiver | undefined;
  private publisher: Publisher | undefined;
  private early: { track: number; kind: 'rtp' | 'rtcp'; data: Buffer }[] = [];
  private earlyBytes = 0;
  private sawRtp = false;
  private tick: NodeJS.Timeout | undefined;
  private poller: MediaPoller | undefined;
  private ticks = 0;
  private bytesReported = 0;
  private transport: RtspTransport | undefined;
  private closed = false;
  private started = false;
  /** Why the pull died while starting (the session dropped during the UDP probe). */
  private failure: RtspError | undefined;

  constructor(private readonly options: RtspPullOptions) {}

  /** Plays the URL; resolves once media flows into the publisher's stream or the transport is settled. */
  async start(): Promise<RtspPullInfo> {
    const order: RtspTransport[] = this.options.transport === 'auto' ? ['udp', 'tcp'] : [this.options.transport];
    let lastError: RtspError | undefined;
    for (const transport of order) {
      if (this.closed) break;
      const fallbackPossible = transport === 'udp' && this.options.transport === 'auto';
      try {
        const info = await this.play(transport, fallbackPossible);
        if (info) return info;
        lastError = new RtspError('transport', `no UDP packet within ${this.options.udpFallbackMs} ms`);
        this.options.log.info({ url: redactUrl(this.options.url) }, 'RTSP over UDP carried nothing: falling back to TCP');
      } catch (err) {
        if (!(err instanceof RtspError) || !fallbackPossible || err.failure !== 'transport') throw err;
        lastError = err;
        this.options.log.info({ err: err.message }, 'RTSP over UDP refused: falling back to TCP');
      }
    }
    throw this.failure ?? lastError ?? new RtspError('unreachable', 'the pull was closed while starting');
  }

  stats(): RtspPullStats {
    return {
      ...(this.transport ? { transport: this.transport } : {}),
      bytes: this.media?.bytes ?? 0,
      tracks: this.media?.trackStats ?? [],
      srCorrections: this.media?.alignStats.srCorrections ?? 0,
    };
  }

  /** Stops the pull (TEARDOWN). The publisher is the owner's to end. Idempotent. */
  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    await this.session?.close(reason);
  }

  /** Undefined when UDP carried nothing within the fallback time (the session is closed then). */
  private async play(transport: RtspTransport, probeUdp: boolean): Promise<RtspPullInfo | undefined> {
    this.early = [];
    this.earlyBytes = 0;
    this.sawRtp = false;
    const session = new RtspClientSession({
      url: this.options.url,
      ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
      transport,
      connectTimeoutMs: this.options.connectTimeoutMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      userAgent: this.options.userAgent,
      log: this.options.log,
      ...(this.options.udpPorts ? { udpPorts: this.options.udpPorts } : {}),
      onPacket: (track, kind, data) => this.onPacket(track, kind, data),
      onClose: (err) => this.fail(err),
    });
    this.session = session;
    const info = await session.start();
    if (probeUdp && !(await this.waitForRtp(this.options.udpFallbackMs))) {
      await session.close('no UDP packets');
      return undefined;
    }
    if (this.closed) {
      await session.close('closed while starting');
      throw this.failure ?? new RtspError('unreachable', 'the pull was closed while starting');
    }
    this.transport = transport;
    try {
      this.publisher = this.options.openPublisher(info);
    } catch (err) {
      // The path is taken (another publisher): the owner reports it as it is.
      this.closed = true;
      await session.close('the stream path is busy');
      throw err;
    }
    this.media = new RtspMediaReceiver({
      tracks: info.tracks,
      publisher: this.publisher,
      reorderDelayMs: transport === 'udp' ? this.options.reorderDelayMs : 0,
      log: this.options.log,
    });
    this.poller = new MediaPoller(this.media);
    this.started = true;
    const early = this.early;
    this.early = [];
    this.earlyBytes = 0;
    for (const p of early) this.media.onPacket(p.track, p.kind, p.data);
    this.media.lastPacketAt ??= performance.now();
    this.tick = setInterval(() => this.onTick(), TICK_MS);
    this.tick.unref?.();
    return info;
  }

  private onPacket(track: number, kind: 'rtp' | 'rtcp', data: Buffer): void {
    if (kind === 'rtp') this.sawRtp = true;
    if (this.media) {
      this.media.onPacket(track, kind, data);
      this.poller?.schedule();
      return;
    }
    if (this.early.length < MAX_EARLY_PACKETS && this.earlyBytes + data.length <= MAX_EARLY_BYTES) {
      this.early.push({ track, kind, data });
      this.earlyBytes += data.length;
    }
  }

  private waitForRtp(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const deadline = performance.now() + ms;
      const check = (): void => {
        if (this.sawRtp) resolve(true);
        else if (this.closed || performance.now() >= deadline) resolve(false);
        else setTimeout(check, 50);
      };
      check();
    });
  }

  private onTick(): void {
    const media = this.media;
    const session = this.session;
    if (this.closed || !media || !session) return;
    const bytes = media.bytes;
    this.publisher?.addBytesIn(bytes - this.bytesReported);
    this.bytesReported = bytes;
    const idle = performance.now() - (media.lastPacketAt ?? 0);
    if (idle > this.options.stallTimeoutMs) {
      this.fail(new RtspError('timeout', `no media for ${Math.round(idle / 1000)} s (stuck stream)`));
      return;
    }
    if (++this.ticks % REPORT_EVERY_TICKS === 0) {
      for (const { track, packet } of media.receiverReports()) session.sendRtcp(track, packet);
    }
  }

  private fail(err: RtspError): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = err;
    this.stopTimers();
    void this.session?.close(err.message);
    if (this.started) this.options.onClose(err);
  }

  private stopTimers(): void {
    clearInterval(this.tick);
    this.poller?.stop();
  }
}
