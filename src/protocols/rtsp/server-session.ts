import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry, Subscription } from '../../hub/registry';
import type { Frame } from '../../core/frame';
import type { Track } from '../../core/track';
import type { Sink, StreamInfo } from '../../core/sink';
import { queryRecord } from '../../core/admission';
import { GatewayError, errorMessage } from '../../core/errors';
import { writeSdp } from '../../formats/sdp/write';
import { RtspReader, encodeInterleaved, header, type RtspServerRequest } from './message';
import { parseTransport } from './headers';
import { buildSenderReport } from '../../../rtp/rtcp';
import { framePackets, serveTracks, type ServedTrack } from './server-media';

export interface ConnectionOptions {
  readonly registry: Registry;
  readonly log: Logger;
  readonly remote: string;
  readonly sessionTimeoutMs: number;
}

/** Milliseconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_EPOCH_OFFSET_MS = 2_208_988_800_000;
const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER';
const NAME = '[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}';
const PATH = new RegExp(`^/(${NAME})/(${NAME})(?:/(trackID=\\d+))?/?$`);

/** `rtsp://host[:port]/app/stream[/trackID=n][?query]` to its parts. */
export function parseServerUri(uri: string): { path: string; control?: string; query: Record<string, string> } | undefined {
  const m = /^rtsps?:\/\/[^/?#]*([^?#]*)(\?[^#]*)?/i.exec(uri);
  const p = m && PATH.exec(m[1]!);
  if (!p) return undefined;
  return { path: `${p[1]}/${p[2]}`, ...(p[3] ? { control: p[3] } : {}), query: queryRecord(m![2] ?? '') };
}

type Reply = { status: number; reason: string; headers?: [string, string][]; body?: string };

/** One RTSP control connection and the one play session it may carry. */
export class RtspServerConnection {
  private readonly reader = new RtspReader();
  private readonly sessionId = randomBytes(8).toString('hex');
  private served: ServedTrack[] = [];
  /** trackId -> the RTP interleaved channel it was set up on. */
  private readonly channels = new Map<number, number>();
  private subscription: Subscription | undefined;
  private playing = false;
  /** Packets of the GOP cache, held until the PLAY response is on the wire (it must come first). */
  private held: Buffer[] | undefined;
  /** Wall clock of the first frame sent and its pts: the NTP side of every sender report. */
  private clockBase: { epochMs: number; pts: number } | undefined;
  private readonly lastReport = new Map<number, number>();
  private closed = false;
  private bytesOut = 0;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: net.Socket,
    private readonly options: ConnectionOptions,
  ) {
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed'));
    this.touch();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.subscription?.close(reason);
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
      // RTCP receiver reports over interleaved channels only keep the session alive.
      if (item.kind === 'interleaved') this.touch();
      else if (item.kind === 'request') this.queue = this.queue.then(() => this.handle(item));
    }
  }

  private async handle(request: RtspServerRequest): Promise<void> {
    if (this.closed) return;
    this.touch();
    const cseq = header(request.headers, 'cseq') ?? '0';
    let reply: Reply;
    try {
      reply = await this.dispatch(request);
    } catch (err) {
      reply = errorReply(err);
      this.options.log.info({ method: request.method, err: errorMessage(err) }, 'rtsp request refused');
    }
    this.send(cseq, reply);
    const held = this.held;
    this.held = undefined;
    if (held && !this.closed) for (const packet of held) this.socket.write(packet);
  }

  private dispatch(request: RtspServerRequest): Promise<Reply> | Reply {
    switch (request.method) {
      case 'OPTIONS':
        return { status: 200, reason: 'OK', headers: [['Public', PUBLIC]] };
      case 'DESCRIBE':
        return this.describe(request);
      case 'SETUP':
        return this.setup(request);
      case 'PLAY':
        return this.play(request);
      case 'PAUSE':
        this.playing = false;
        return { status: 200, reason: 'OK', headers: [['Session', this.sessionId]] };
      case 'TEARDOWN':
        this.subscription?.close('teardown');
        this.subscription = undefined;
        this.playing = false;
        return { status: 200, reason: 'OK', headers: [['Session', this.sessionId]] };
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return { status: 200, reason: 'OK', headers: [['Session', this.sessionId]] };
      default:
        return { status: 501, reason: 'Not Implemented', headers: [['Public', PUBLIC]] };
    }
  }

  private target(request: RtspServerRequest) {
    const target = parseServerUri(request.uri);
    if (!target) throw new GatewayError('BAD_REQUEST', 'the URL is not rtsp://host/app/stream');
    return target;
  }

  private async describe(request: RtspServerRequest): Promise<Reply> {
    const target = this.target(request);
    await this.options.registry.admission.admit({ action: 'play', path: target.path, protocol: 'rtsp', remote: this.options.remote, query: target.query });
    const tracks = await this.probeTracks(target.path);
    this.served = serveTracks(tracks);
    const address = this.socket.localAddress ?? '0.0.0.0';
    const body = writeSdp({ address: address.replace(/^::ffff:/, ''), name: target.path, media: this.served.map((s) => s.sdp) });
    const base = request.uri.split('?')[0]!.replace(/\/?$/, '/');
    return {
      status: 200,
      reason: 'OK',
      headers: [
        ['Content-Type', 'application/sdp'],
        ['Content-Base', base],
      ],
      body,
    };
  }

  /** The stream's ready tracks: a short subscription that ends at onStart. */
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

  private setup(request: RtspServerRequest): Reply {
    const target = this.target(request);
    const served = this.served.find((s) => s.control === target.control) ?? (this.served.length === 1 && !target.control ? this.served[0] : undefined);
    if (!served) return { status: 404, reason: 'Not Found' };
    const transport = parseTransport(header(request.headers, 'transport') ?? '');
    if (transport.protocol !== 'tcp') return { status: 461, reason: 'Unsupported Transport' };
    const channel = transport.interleaved?.[0] ?? this.channels.size * 2;
    this.channels.set(served.track.id, channel);
    const value = `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1};ssrc=${served.writer.ssrc.toString(16).padStart(8, '0')}`;
    const timeout = Math.round(this.options.sessionTimeoutMs / 1000);
    return {
      status: 200,
      reason: 'OK',
      headers: [
        ['Transport', value],
        ['Session', `${this.sessionId};timeout=${timeout}`],
      ],
    };
  }

  private async play(request: RtspServerRequest): Promise<Reply> {
    const target = this.target(request);
    if (this.channels.size === 0) return { status: 455, reason: 'Method Not Valid in This State' };
    this.playing = true;
    if (!this.subscription) {
      this.held = [];
      await this.options.registry.admission.admit({ action: 'play', path: target.path, protocol: 'rtsp', remote: this.options.remote, query: target.query });
      this.subscription = await this.options.registry.subscribe(target.path, this.playSink(), {});
    }
    const base = request.uri.split('?')[0]!.replace(/\/?$/, '/');
    const rtpInfo = this.served.filter((s) => this.channels.has(s.track.id)).map((s) => `url=${base}${s.control}${this.firstHeld(this.channels.get(s.track.id)!)}`);
    return {
      status: 200,
      reason: 'OK',
      headers: [
        ['Session', this.sessionId],
        ['Range', 'npt=0.000-'],
        ['RTP-Info', rtpInfo.join(',')],
      ],
    };
  }

  /** `;seq=..;rtptime=..` of the first held RTP packet on `channel` (RFC 2326 §12.33). */
  private firstHeld(channel: number): string {
    const framed = this.held?.find((b) => b[1] === channel);
    return framed ? `;seq=${framed.readUInt16BE(6)};rtptime=${framed.readUInt32BE(8)}` : '';
  }

  private playSink(): Sink {
    return {
      onStart: (_info: StreamInfo) => {},
      onTracks: () => {},
      onFrame: (frame: Frame) => this.sendFrame(frame),
      onEnd: (reason: string) => this.close(`stream ended: ${reason}`),
      pendingBytes: () => this.socket.writableLength,
      describe: () => ({ protocol: 'rtsp', remote: this.options.remote, bytesOut: this.bytesOut }),
    };
  }

  private sendFrame(frame: Frame): void {
    if (!this.playing || this.closed) return;
    const channel = this.channels.get(frame.trackId);
    const served = this.served.find((s) => s.track.id === frame.trackId);
    if (channel === undefined || !served) return;
    const packets = framePackets(served, frame);
    const report = this.senderReport(served, frame);
    if (report) packets.unshift(report);
    for (const [i, packet] of packets.entries()) {
      const framed = encodeInterleaved(report && i === 0 ? channel + 1 : channel, packet);
      this.bytesOut += framed.length;
      if (this.held) this.held.push(framed);
      else this.socket.write(framed);
    }
  }

  /**
   * An RTCP sender report before a track's first packet and every 5 s of media, so a player
   * syncs audio to video from the start. Spec: RFC 3550 §6.4.1.
   */
  private senderReport(served: ServedTrack, frame: Frame): Buffer | undefined {
    this.clockBase ??= { epochMs: Date.now(), pts: frame.pts };
    const last = this.lastReport.get(frame.trackId);
    if (last !== undefined && frame.pts - last < 5 * 90000) return undefined;
    this.lastReport.set(frame.trackId, frame.pts);
    const ntpMs = this.clockBase.epochMs + (frame.pts - this.clockBase.pts) / 90 + NTP_EPOCH_OFFSET_MS;
    const seconds = Math.floor(ntpMs / 1000);
    const fraction = Math.floor(((ntpMs % 1000) / 1000) * 0x100000000) >>> 0;
    const rtpTimestamp = Math.round((frame.pts * served.clockRate) / 90000) >>> 0;
    return buildSenderReport({
      ssrc: served.writer.ssrc,
      ntpSeconds: seconds >>> 0,
      ntpFraction: fraction,
      rtpTimestamp,
      packetCount: served.writer.packets,
      octetCount: served.writer.octets >>> 0,
    });
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

function errorReply(err: unknown): Reply {
  const code = err instanceof GatewayError ? err.code : '';
  if (code === 'UNAUTHORIZED') return { status: 401, reason: 'Unauthorized' };
  if (code === 'FORBIDDEN') return { status: 403, reason: 'Forbidden' };
  if (code === 'NOT_FOUND' || code === 'STREAM_NOT_FOUND' || code === 'TIMEOUT') return { status: 404, reason: 'Stream Not Found' };
  if (code === 'BAD_REQUEST' || (err instanceof Error && err.name === 'ParseError')) return { status: 400, reason: 'Bad Request' };
  return { status: 503, reason: 'Service Unavailable' };
}
