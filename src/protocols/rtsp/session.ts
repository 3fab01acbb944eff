import { ParseError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import { buildReceiverReport } from '../../../rtp/rtcp';
import { RtspConnection } from './connection';
import { RtspError } from './errors';
import { formatTransport, parsePublic, parseSession, parseTransport, type TransportSpec } from './headers';
import { header, type RtspResponse } from './message';
import { parseSdp } from '../../formats/sdp/sdp';
import { selectTracks, describeSelection, type SkippedMedia, type TrackSpec } from './sdp-tracks';
import { UdpTrackChannel, osPortAllocator, type UdpPortAllocator } from './udp';
import { parseRtspUrl, redactUrl, resolveControl, type Credentials, type RtspUrl } from './url';

export type RtspTransport = 'tcp' | 'udp';

export interface RtspSessionOptions {
  /** May carry `user:pass@`; `credentials` (from config) win over those. */
  readonly url: string;
  readonly credentials?: Credentials;
  readonly transport: RtspTransport;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly userAgent: string;
  readonly log: Logger;
  readonly udpPorts?: UdpPortAllocator;
  /** RTP or RTCP for `track` (an index into `info.tracks`). `data` is only valid during the call. */
  readonly onPacket: (track: number, kind: 'rtp' | 'rtcp', data: Buffer) => void;
  /** The session died after `start()` resolved (connection lost, keepalive unanswered). */
  readonly onClose: (err: RtspError) => void;
}

export interface RtspSessionInfo {
  /** The URL finally played (after redirects), without credentials. */
  readonly url: string;
  readonly tracks: readonly TrackSpec[];
  readonly skipped: readonly SkippedMedia[];
  readonly transport: RtspTransport;
  readonly server?: string;
  readonly sessionTimeoutS: number;
}

/** Spec: RFC 2326 §11.3 (3xx): a camera behind a load balancer may redirect a few times. */
const MAX_REDIRECTS = 5;
const TEARDOWN_WAIT_MS = 1000;

interface ChannelRoute {
  readonly track: number;
  readonly kind: 'rtp' | 'rtcp';
}

/**
 * A playing RTSP session: OPTIONS, DESCRIBE (following redirects, answering auth), SETUP of
 * the chosen tracks over TCP interleaved or UDP, PLAY, keepalive within the session timeout,
 * and TEARDOWN on close. Media goes to `onPacket`; the caller depacketizes.
 * Spec: RFC 2326 §10 (methods), §12.37 (session timeout), §C.1 (aggregate control).
 */
export class RtspClientSession {
  private connection: RtspConnection | undefined;
  private readonly udp: (UdpTrackChannel | undefined)[] = [];
  private readonly routes = new Map<number, ChannelRoute>();
  private readonly rtcpChannels: number[] = [];
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private keepaliveMethod: 'GET_PARAMETER' | 'OPTIONS' = 'OPTIONS';
  private playUrl = '';
  private sessionTimeoutS = 60;
  private closed = false;
  private started = false;
  readonly stats = { foreignPackets: 0, keepalives: 0 };

  constructor(private readonly options: RtspSessionOptions) {}

  get bytesIn(): number {
    return this.connection?.bytesIn ?? 0;
  }

  /** Plays the URL; rejects with an RtspError naming the failure, with everything closed. */
  async start(): Promise<RtspSessionInfo> {
    try {
      const info = await this.run();
      if (this.closed) throw new RtspError('unreachable', 'the session was closed while starting');
      this.started = true;
      this.scheduleKeepalive(info.sessionTimeoutS);
      return info;
    } catch (err) {
      this.release();
      throw asRtspError(err);
    }
  }

  /** Sends an RTCP packet (receiver report) for `track` the way its media comes. */
  sendRtcp(track: number, packet: Buffer): void {
    if (this.closed) return;
    const udp = this.udp[track];
    if (udp) udp.sendRtcp(packet);
    else if (this.rtcpChannels[track] !== undefined) this.connection?.sendInterleaved(this.rtcpChannels[track]!, packet);
  }

  /** TEARDOWN (waited for at most a second) and release every socket. Idempotent. */
  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.keepaliveTimer);
    const connection = this.connection;
    if (connection && !connection.closed && connection.session !== undefined && this.playUrl) {
      this.options.log.debug({ reason }, 'RTSP TEARDOWN');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([connection.request('TEARDOWN', this.playUrl).catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, TEARDOWN_WAIT_MS)))]);
      clearTimeout(timer);
    }
    this.release();
  }

  private async run(): Promise<RtspSessionInfo> {
    let url = parseRtspUrl(this.options.url);
    const credentials = this.options.credentials ?? url.credentials;
    let connection: RtspConnection;
    let describe: RtspResponse;
    for (let hop = 0; ; hop++) {
      connection = await this.open(url, credentials);
      const options = await connection.request('OPTIONS', url.href);
      let redirect = redirectTarget(options);
      if (!redirect) {
        if (options.status >= 200 && options.status < 300 && parsePublic(header(options.headers, 'public')).has('GET_PARAMETER')) this.keepaliveMethod = 'GET_PARAMETER';
        describe = await connection.request('DESCRIBE', url.href, [['Accept', 'application/sdp']]);
        redirect = redirectTarget(describe);
        if (!redirect) break;
      }
      if (hop >= MAX_REDIRECTS) throw new RtspError('protocol', `more than ${MAX_REDIRECTS} redirects`);
      connection.close();
      const next = parseRtspUrl(redirect);
      this.options.log.info({ from: url.href, to: redactUrl(redirect) }, 'RTSP redirect');
      url = next.credentials || !credentials ? next : { ...next, credentials };
    }
    expectOk(describe, 'DESCRIBE', url.href);
    let sdp;
    try {
      sdp = parseSdp(describe.body);
    } catch (err) {
      throw new RtspError('protocol', `the SDP of ${url.href} is unreadable: ${errorMessage(err)}`);
    }
    const base = header(describe.headers, 'content-base') ?? header(describe.headers, 'content-location') ?? url.href;
    const selection = selectTracks(sdp, base);
    if (selection.tracks.length === 0) {
      const what = selection.skipped.length ? describeSelection(selection) : 'the SDP lists no media';
      throw new RtspError('unsupported-codec', `${url.href} has no playable track: ${what}`);
    }
    const tracks = await this.setupTracks(connection, selection.tracks);
    this.playUrl = sdp.control ? resolveControl(base, sdp.control) : base;
    expectOk(await connection.request('PLAY', this.playUrl, [['Range', 'npt=0.000-']]), 'PLAY', this.playUrl);
    const server = header(describe.headers, 'server');
    this.options.log.info({ url: url.href, transport: this.options.transport, tracks: describeSelection({ tracks, skipped: selection.skipped }) }, 'RTSP playing');
    return {
      url: url.href,
      tracks,
      skipped: selection.skipped,
      transport: this.options.transport,
      ...(server ? { server } : {}),
      sessionTimeoutS: this.sessionTimeoutS,
    };
  }

  private async open(url: RtspUrl, credentials: Credentials | undefined): Promise<RtspConnection> {
    const connection = await RtspConnection.open({
      host: url.host,
      port: url.port,
      connectTimeoutMs: this.options.connectTimeoutMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      userAgent: this.options.userAgent,
      ...(credentials ? { credentials } : {}),
      log: this.options.log,
      onInterleaved: (channel, data) => {
        const route = this.routes.get(channel);
        if (route) this.options.onPacket(route.track, route.kind, data);
      },
      onClose: (err) => this.lost(connection, err),
    });
    this.connection = connection;
    if (this.closed) connection.close();
    return connection;
  }

  /** SETUP every track; a track other than the first that fails is dropped with a warning. */
  private async setupTracks(connection: RtspConnection, wanted: readonly TrackSpec[]): Promise<TrackSpec[]> {
    const tracks: TrackSpec[] = [];
    for (const spec of wanted) {
      try {
        await this.setupTrack(connection, spec, tracks.length);
        tracks.push(spec);
      } catch (err) {
        if (tracks.length === 0 || !(err instanceof RtspError) || err.failure === 'auth' || connection.closed) throw err;
        this.options.log.warn({ track: spec.control, err: err.message }, 'RTSP track skipped: its SETUP failed');
      }
    }
    return tracks;
  }

  private async setupTrack(connection: RtspConnection, spec: TrackSpec, index: number): Promise<void> {
    const tcp = this.options.transport === 'tcp';
    const pair = tcp ? undefined : await (this.options.udpPorts ?? osPortAllocator).bindPair(connection.localAddress?.includes(':') ? '::' : '0.0.0.0');
    try {
      const asked = tcp
        ? formatTransport({ protocol: 'tcp', interleaved: [2 * index, 2 * index + 1] })
        : formatTransport({ protocol: 'udp', clientPort: [pair!.rtpPort, pair!.rtpPort + 1] });
      const response = await connection.request('SETUP', spec.control, [['Transport', asked]]);
      expectOk(response, 'SETUP', spec.control);
      const sessionText = header(response.headers, 'session');
      if (connection.session === undefined) {
        if (sessionText === undefined) throw new RtspError('protocol', `SETUP of ${spec.control} answered without a Session`);
        const session = parseSession(sessionText);
        connection.session = session.id;
        this.sessionTimeoutS = session.timeout;
      }
      const transport = readTransport(response, tcp ? 'tcp' : 'udp');
      if (tcp) {
        const [rtp, rtcp] = transport.interleaved ?? [2 * index, 2 * index + 1];
        this.routes.set(rtp, { track: index, kind: 'rtp' });
        this.routes.set(rtcp, { track: index, kind: 'rtcp' });
        this.rtcpChannels[index] = rtcp;
        return;
      }
      const channel = new UdpTrackChannel({
        pair: pair!,
        remoteAddress: transport.source ?? connection.remoteAddress ?? '',
        onRtp: (data) => this.options.onPacket(index, 'rtp', data),
        onRtcp: (data) => this.options.onPacket(index, 'rtcp', data),
        onForeign: () => this.stats.foreignPackets++,
      });
      this.udp[index] = channel;
      channel.connect(transport.serverPort, buildReceiverReport(0));
    } catch (err) {
      if (pair && !this.udp[index]) {
        pair.rtp.close();
        pair.rtcp.close();
        this.options.udpPorts?.release?.(pair);
      }
      throw err;
    }
  }

  /** Spec: RFC 2326 §12.37: a request inside the timeout keeps the session; half of it leaves room. */
  private scheduleKeepalive(timeoutS: number): void {
    const every = Math.max(1000, (timeoutS * 1000) / 2);
    this.keepaliveTimer = setTimeout(() => void this.keepalive(timeoutS), every);
  }

  private async keepalive(timeoutS: number): Promise<void> {
    const connection = this.connection;
    if (this.closed || !connection || connection.closed) return;
    try {
      const response = await connection.request(this.keepaliveMethod, this.playUrl);
      this.stats.keepalives++;
      if (response.status >= 400 && this.keepaliveMethod === 'GET_PARAMETER') this.keepaliveMethod = 'OPTIONS';
    } catch (err) {
      // A keepalive without answer is a dead server: the connection already failed and reported it.
      this.options.log.debug({ err: errorMessage(err) }, 'RTSP keepalive failed');
      return;
    }
    if (!this.closed) this.scheduleKeepalive(timeoutS);
  }

  private lost(connection: RtspConnection, err: RtspError): void {
    if (this.closed || connection !== this.connection) return;
    this.closed = true;
    clearTimeout(this.keepaliveTimer);
    this.release();
    if (this.started) this.options.onClose(err);
  }

  private release(): void {
    this.closed = true;
    clearTimeout(this.keepaliveTimer);
    this.connection?.close();
    for (const channel of this.udp) channel?.close(this.options.udpPorts ?? osPortAllocator);
  }
}

function redirectTarget(response: RtspResponse): string | undefined {
  if (response.status < 300 || response.status >= 400) return undefined;
  const location = header(response.headers, 'location');
  if (!location) throw new RtspError('protocol', `redirect ${response.status} without a Location`);
  return location;
}

/** Turns a non-2xx answer into the failure an operator reads. */
export function expectOk(response: RtspResponse, method: string, url: string): void {
  const { status, reason } = response;
  if (status >= 200 && status < 300) return;
  const what = `${method} ${redactUrl(url)} answered ${status} ${reason}`.trim();
  if (status === 404 || status === 454) throw new RtspError('not-found', what);
  if (status === 401 || status === 403) throw new RtspError('auth', what);
  if (status === 461) throw new RtspError('transport', what);
  throw new RtspError('protocol', what);
}

function readTransport(response: RtspResponse, asked: RtspTransport): TransportSpec {
  const text = header(response.headers, 'transport');
  if (text === undefined) {
    // Some cameras answer SETUP without Transport: assume they took what we asked.
    return { protocol: asked, unicast: true };
  }
  let transport: TransportSpec;
  try {
    transport = parseTransport(text);
  } catch (err) {
    if (err instanceof ParseError) throw new RtspError('protocol', `bad Transport in the SETUP answer: ${err.message}`);
    throw err;
  }
  if (transport.protocol !== asked) throw new RtspError('transport', `asked for ${asked.toUpperCase()} and the server answered ${transport.protocol.toUpperCase()}`);
  if (!transport.unicast) throw new RtspError('transport', 'the server answered with multicast');
  return transport;
}

export function asRtspError(err: unknown): RtspError {
  if (err instanceof RtspError) return err;
  if (err instanceof ParseError) return new RtspError('protocol', err.message, { cause: err });
  return new RtspError('protocol', errorMessage(err), { cause: err });
}
