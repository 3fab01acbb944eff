import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from '../../hub/registry';
import type { Reader } from '../../hub/reader';
import type { Track } from '../../core/track';
import type { Sink } from '../../core/sink';
import { queryRecord } from '../../core/admission';
import { GatewayError, errorMessage } from '../../core/errors';
import { writeSdp } from '../../formats/sdp/write';
import { RtspReader, header, type RtspServerRequest } from './message';
import { parseTransports } from './headers';
import { RtspError } from './errors';
import { MAX_AUTH_FAILURES, RtspServerAuth, type RtspAction, type RtspCredentials } from './server-auth';
import { RtspPlay } from './server-play';
import { RtspRecord } from './server-record';
import { negotiate, plainAddress, type LinkContext } from './server-transport';
import type { UdpPortAllocator } from './udp';
import { controlBeforeQuery } from './url';

export interface ConnectionOptions {
  readonly registry: Registry;
  readonly log: Logger;
  readonly remote: string;
  readonly sessionTimeoutMs: number;
  readonly udpPorts: UdpPortAllocator;
  readonly credentials?: RtspCredentials;
  /** Only TCP interleaved transport (RTSPS): UDP offers are left out, so they get 461. */
  readonly interleavedOnly: boolean;
}

const PUBLIC = 'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';
const NAME = '[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}';
const PATH = new RegExp(`^/(${NAME})/(${NAME})(?:/([A-Za-z0-9_=.-]{1,64}))?/?$`);

/** `rtsp://host[:port]/app/stream[/control][?query]` to its parts. */
export function parseServerUri(uri: string): { path: string; control?: string; query: Record<string, string> } | undefined {
  const m = /^rtsps?:\/\/[^/?#]*([^?#]*)(\?[^#]*)?/i.exec(controlBeforeQuery(uri));
  const p = m && PATH.exec(m[1]!);
  if (!p) return undefined;
  return { path: `${p[1]}/${p[2]}`, ...(p[3] ? { control: p[3] } : {}), query: queryRecord(m![2] ?? '') };
}

export type Reply = { status: number; reason: string; headers?: [string, string][]; body?: string };

const ok = (headers: [string, string][] = []): Reply => ({ status: 200, reason: 'OK', headers });

/**
 * One RTSP control connection and the one session it may carry: play (DESCRIBE, SETUP, PLAY)
 * or publish (ANNOUNCE, SETUP mode=record, RECORD), over TCP interleaved or UDP.
 * Spec: RFC 2326 §10 (methods), §12.37 (session timeout).
 */
export class RtspServerConnection {
  private readonly reader = new RtspReader();
  private readonly sessionId = randomBytes(8).toString('hex');
  private readonly auth: RtspServerAuth;
  private play: RtspPlay | undefined;
  private record: RtspRecord | undefined;
  /** Counts a viewer for demand from DESCRIBE until its PLAY subscribes (an on-demand source starts at DESCRIBE). */
  private demand: Reader | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: net.Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.auth = new RtspServerAuth(options.credentials);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed'));
    this.touch();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.demand?.close(reason);
    this.play?.close(reason);
    this.record?.close(reason);
    this.options.log.info({ reason }, 'rtsp session ended');
    this.socket.destroy();
  }

  private touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.close('session timeout'), this.options.sessionTimeoutMs);
  }

  private onData(chunk: Buffer): void {
    let items;
    try {
      items = this.reader.feed(chunk);
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err) }, 'bad RTSP input');
      this.socket.end('RTSP/1.0 400 Bad Request\r\n\r\n');
      this.close('bad request');
      return;
    }
    for (const item of items) {
      if (item.kind === 'interleaved') {
        // Media of a publisher; RTCP receiver reports of a viewer only keep the session alive.
        this.touch();
        this.record?.onInterleaved(item.channel, item.data);
      } else if (item.kind === 'request') this.queue = this.queue.then(() => this.handle(item));
    }
  }

  private async handle(request: RtspServerRequest): Promise<void> {
    if (this.closed) return;
    // No timeout while a request waits (an on-demand source starting); it runs again from the answer.
    clearTimeout(this.timer);
    const cseq = header(request.headers, 'cseq') ?? '0';
    let reply: Reply;
    try {
      reply = await this.dispatch(request);
    } catch (err) {
      reply = this.errorReply(err);
      this.options.log.info({ method: request.method, err: errorMessage(err) }, 'rtsp request refused');
    }
    this.send(cseq, reply);
    this.touch();
    if (reply.status === 200 && request.method === 'PLAY') this.play?.flush();
    if (this.auth.failures >= MAX_AUTH_FAILURES) this.close('too many failed authentications');
  }

  private dispatch(request: RtspServerRequest): Promise<Reply> | Reply {
    switch (request.method) {
      case 'OPTIONS':
        return ok([['Public', PUBLIC]]);
      case 'DESCRIBE':
        return this.describe(request);
      case 'ANNOUNCE':
        return this.announce(request);
      case 'SETUP':
        return this.setup(request);
      case 'PLAY':
        return this.startPlay(request);
      case 'RECORD':
        return this.startRecord();
      case 'PAUSE':
        this.play?.pause();
        return ok([['Session', this.sessionId]]);
      case 'TEARDOWN':
        this.play?.close('teardown');
        this.record?.close('teardown');
        this.play = undefined;
        this.record = undefined;
        return ok([['Session', this.sessionId]]);
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return ok([['Session', this.sessionId]]);
      default:
        return { status: 501, reason: 'Not Implemented', headers: [['Public', PUBLIC]] };
    }
  }

  private target(request: RtspServerRequest) {
    const target = parseServerUri(request.uri);
    if (!target) throw new GatewayError('BAD_REQUEST', 'the URL is not rtsp://host/app/stream');
    return target;
  }

  /** Credentials (Authorization) and admission (hub rule 11) for `action` on the request's path. */
  private async admit(request: RtspServerRequest, action: RtspAction, target: { path: string; query: Record<string, string> }): Promise<void> {
    const proven = this.auth.verify(action, request.method, header(request.headers, 'authorization'));
    await this.options.registry.admission.admit({
      action,
      path: target.path,
      protocol: 'rtsp',
      remote: this.options.remote,
      query: { ...target.query, ...proven?.query },
      ...(proven ? { user: proven.user } : {}),
    });
  }

  private async describe(request: RtspServerRequest): Promise<Reply> {
    if (this.record) return { status: 455, reason: 'Method Not Valid in This State' };
    const target = this.target(request);
    await this.admit(request, 'play', target);
    if (!this.demand || this.play?.path !== target.path) {
      this.demand?.close('described again');
      this.demand = this.options.registry.reader(target.path, { protocol: 'rtsp', remote: this.options.remote, onClose: (reason) => this.close(reason) });
    }
    const tracks = await this.probeTracks(target.path);
    this.play?.close('described again');
    this.play = new RtspPlay(
      {
        socket: this.socket,
        registry: this.options.registry,
        log: this.options.log,
        remote: this.options.remote,
        udpPorts: this.options.udpPorts,
        onEnd: (reason) => this.close(reason),
      },
      target.path,
      tracks,
    );
    const body = writeSdp({ address: plainAddress(this.socket.localAddress), name: target.path, media: this.play.served.map((s) => s.sdp) });
    return {
      ...ok([
        ['Content-Type', 'application/sdp'],
        ['Content-Base', baseOf(request.uri)],
      ]),
      body,
    };
  }

  /** The stream's ready tracks: a short uncounted subscription that ends at onStart (the demand reader counts the viewer). */
  private async probeTracks(path: string): Promise<readonly Track[]> {
    let tracks: readonly Track[] = [];
    const sink: Sink = {
      onStart: (info) => (tracks = info.tracks),
      onTracks: () => {},
      onFrame: () => {},
      onEnd: () => {},
      pendingBytes: () => 0,
      describe: () => ({ protocol: 'rtsp', remote: this.options.remote, bytesOut: 0 }),
    };
    const sub = await this.options.registry.subscribe(path, sink, { counted: false });
    sub.close('described');
    if (tracks.length === 0) throw new GatewayError('NOT_FOUND', `stream ${path} has no ready track`);
    return tracks;
  }

  private async announce(request: RtspServerRequest): Promise<Reply> {
    if (this.play || this.record) return { status: 455, reason: 'Method Not Valid in This State' };
    const target = this.target(request);
    if (!/^application\/sdp\b/i.test(header(request.headers, 'content-type') ?? '')) return { status: 415, reason: 'Unsupported Media Type' };
    await this.admit(request, 'publish', target);
    this.record = new RtspRecord(
      { registry: this.options.registry, log: this.options.log, remote: this.options.remote, udpPorts: this.options.udpPorts, onKicked: (reason) => this.close(reason) },
      target.path,
      request.body,
      request.uri.split('?')[0]!,
    );
    return ok([['Session', this.sessionId]]);
  }

  private async setup(request: RtspServerRequest): Promise<Reply> {
    const offers = parseTransports(header(request.headers, 'transport') ?? '').filter((o) => !this.options.interleavedOnly || o.protocol === 'tcp');
    const ctx = (onRtp: (d: Buffer) => void, onRtcp: (d: Buffer) => void, used: ReadonlySet<number>): LinkContext => ({
      localAddress: plainAddress(this.socket.localAddress),
      remoteAddress: plainAddress(this.socket.remoteAddress),
      udpPorts: this.options.udpPorts,
      usedChannels: used,
      onRtp,
      onRtcp,
    });
    const timeout = Math.round(this.options.sessionTimeoutMs / 1000);
    const session: [string, string] = ['Session', `${this.sessionId};timeout=${timeout}`];
    if (this.record) {
      const track = this.record.trackOf(request.uri);
      if (track === undefined) return { status: 404, reason: 'Not Found' };
      const record = this.record;
      const deliver = (kind: 'rtp' | 'rtcp') => (data: Buffer) => {
        this.touch();
        record.onPacket(track, kind, data);
      };
      const done = await negotiate(offers, ctx(deliver('rtp'), deliver('rtcp'), record.usedChannels()), 0);
      if (!done) return { status: 461, reason: 'Unsupported Transport' };
      record.setLink(track, done.link);
      return ok([['Transport', done.answer], session]);
    }
    if (!this.play) return { status: 455, reason: 'Method Not Valid in This State' };
    const served = this.play.trackOf(this.target(request).control);
    if (!served) return { status: 404, reason: 'Not Found' };
    const keepAlive = (): void => this.touch();
    const done = await negotiate(offers, ctx(keepAlive, keepAlive, this.play.usedChannels()), served.writer.ssrc);
    if (!done || done.mode === 'record') return { status: 461, reason: 'Unsupported Transport' };
    this.play.setLink(served.track.id, done.link);
    return ok([['Transport', done.answer], session]);
  }

  private async startPlay(request: RtspServerRequest): Promise<Reply> {
    const play = this.play;
    if (!play || play.linkCount === 0) return { status: 455, reason: 'Method Not Valid in This State' };
    const target = this.target(request);
    await this.admit(request, 'play', target);
    await play.play();
    this.demand?.close('playing');
    this.demand = undefined;
    return ok([
      ['Session', this.sessionId],
      ['Range', 'npt=0.000-'],
      ['RTP-Info', play.rtpInfo(baseOf(request.uri))],
    ]);
  }

  private startRecord(): Reply {
    if (!this.record || this.record.linkCount === 0) return { status: 455, reason: 'Method Not Valid in This State' };
    this.record.start();
    return ok([['Session', this.sessionId]]);
  }

  private errorReply(err: unknown): Reply {
    const code = err instanceof GatewayError ? err.code : '';
    if (code === 'UNAUTHORIZED') return { status: 401, reason: 'Unauthorized', headers: this.auth.challenge() };
    if (code === 'FORBIDDEN') return { status: 403, reason: 'Forbidden' };
    if (code === 'STREAM_BUSY') return { status: 403, reason: 'Forbidden' };
    if (code === 'NOT_FOUND' || code === 'STREAM_NOT_FOUND' || code === 'TIMEOUT') return { status: 404, reason: 'Stream Not Found' };
    if (code === 'BAD_REQUEST' || (err instanceof Error && err.name === 'ParseError')) return { status: 400, reason: 'Bad Request' };
    // No free UDP port pair in the RTP range.
    if (err instanceof RtspError && err.failure === 'transport') return { status: 453, reason: 'Not Enough Bandwidth' };
    return { status: 503, reason: 'Service Unavailable' };
  }

  private send(cseq: string, reply: Reply): void {
    if (this.closed) return;
    const body = reply.body ? Buffer.from(reply.body, 'utf8') : undefined;
    let head = `RTSP/1.0 ${reply.status} ${reply.reason}\r\nCSeq: ${cseq.replace(/[\r\n]/g, '')}\r\nServer: surveillance-media-gateway\r\n`;
    for (const [name, value] of reply.headers ?? []) head += `${name}: ${value.replace(/[\r\n]/g, '')}\r\n`;
    if (body) head += `Content-Length: ${body.length}\r\n`;
    this.socket.write(body ? Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]) : `${head}\r\n`);
  }
}

/** The request URL without its query, ending in `/` (Content-Base and RTP-Info urls). */
function baseOf(uri: string): string {
  return uri.split('?')[0]!.replace(/\/?$/, '/');
}
