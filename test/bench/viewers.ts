/**
 * The viewers of the load client: HTTP-FLV over a raw socket, WebSocket-FLV with `ws`, RTMP
 * with the minimal play client. Each walks the stream only up to its first video keyframe and
 * then just counts bytes and watches the gaps between reads.
 *
 * Bytes counted: the FLV bytes for HTTP-FLV (after the response head, after de-chunking) and
 * WebSocket-FLV (message payloads); every socket byte for RTMP (chunk headers are the protocol).
 */
import { connect, createConnection, type NetConnectOpts } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { errorMessage } from '../../src/core/errors';
import { silentLogger } from '../../src/core/log';
import { FlvDemuxer } from '../../src/formats/flv/demuxer';
import { FLV_TAG_VIDEO } from '../../src/formats/flv/tag';
import { RtmpClient } from '../../src/protocols/rtmp/client';
import { MessageType } from '../../src/protocols/rtmp/message';
import { FlvKeyframeScanner, isVideoKeyframe } from '../helpers/flv-scan';
import { RtmpPlayClient } from '../helpers/rtmp-play-client';
import { ChunkedDecoder } from './http-chunked';
import { openRtspViewer } from './rtsp-viewer';

export type Protocol = 'flv' | 'ws' | 'rtmp' | 'rtsp';
/** What the fan-out bench compares across servers (node-media-server and the relay have no RTSP; bench:rtsp-server adds it). */
export const PROTOCOLS: readonly Protocol[] = ['flv', 'ws', 'rtmp'];

export interface Target {
  host: string;
  httpPort: number;
  rtmpPort: number;
  /** The gateway's RTSP port (bench:rtsp-server). */
  rtspPort?: number;
  app: string;
  stream: string;
}

export interface ViewerContext {
  target: Target;
  /** A silence longer than this after the first keyframe is a stall. */
  gapLimitMs: number;
  /** One read buffer shared by every raw-socket viewer (net `onread`): no Buffer per read. */
  readBuffer: Buffer;
  /** Set for the few viewers that read every video timestamp (the latency probes). */
  latency?: LatencyRecorder;
}

/**
 * Server-added latency: when a probe viewer receives a video frame minus when the publisher
 * wrote it (both performance.now() of this process; frames are matched by their timestamp,
 * which the servers pass through). Only frames arriving while `active` count.
 */
export class LatencyRecorder {
  active = false;
  readonly samples: number[] = [];
  unmatched = 0;

  constructor(private readonly sentAt: ReadonlyMap<number, number>) {}

  record(timestampMs: number, arrivedAt: number): void {
    if (!this.active) return;
    const sent = this.sentAt.get(timestampMs);
    if (sent === undefined) this.unmatched++;
    else this.samples.push(arrivedAt - sent);
  }
}

/** How far a viewer got: for the viewers that never saw a keyframe. */
export type ViewerPhase = 'connecting' | 'connected' | 'accepted' | 'data' | 'keyframe';

/** Times are performance.now() ms. */
export interface ViewerStats {
  phase: ViewerPhase;
  connectAt: number;
  /** TCP connected (the server accepted), the server's answer (response head, upgrade, Play.Start) read: the join storm's stages. */
  connectedAt: number | undefined;
  acceptedAt: number | undefined;
  firstKeyAt: number | undefined;
  lastDataAt: number;
  bytes: number;
  /** Longest silence after the first keyframe, and how many silences went over the limit. */
  maxGapMs: number;
  gapsOverLimit: number;
  closedAt: number | undefined;
  closeReason: string | undefined;
}

export interface Viewer {
  readonly stats: ViewerStats;
  close(): void;
}

/** Longest head of an HTTP response we read. */
const MAX_RESPONSE_HEAD = 16 * 1024;

function newStats(): ViewerStats {
  const now = performance.now();
  return {
    phase: 'connecting',
    connectAt: now,
    connectedAt: undefined,
    acceptedAt: undefined,
    firstKeyAt: undefined,
    lastDataAt: now,
    bytes: 0,
    maxGapMs: 0,
    gapsOverLimit: 0,
    closedAt: undefined,
    closeReason: undefined,
  };
}

/** Bookkeeping per read, shared by the three protocols. */
function onBytes(stats: ViewerStats, n: number, gapLimitMs: number): void {
  const now = performance.now();
  if (stats.firstKeyAt !== undefined) {
    const gap = now - stats.lastDataAt;
    if (gap > stats.maxGapMs) stats.maxGapMs = gap;
    if (gap > gapLimitMs) stats.gapsOverLimit++;
  }
  stats.lastDataAt = now;
  stats.bytes += n;
  if (stats.phase === 'accepted') stats.phase = 'data';
}

function onConnected(stats: ViewerStats): void {
  if (stats.phase !== 'connecting') return;
  stats.phase = 'connected';
  stats.connectedAt = performance.now();
}

function onAccepted(stats: ViewerStats): void {
  if (stats.acceptedAt !== undefined) return;
  stats.acceptedAt = performance.now();
  if (stats.phase !== 'keyframe' && stats.phase !== 'data') stats.phase = 'accepted';
}

function onKeyframe(stats: ViewerStats): void {
  stats.phase = 'keyframe';
  stats.firstKeyAt = performance.now();
  stats.lastDataAt = stats.firstKeyAt;
}

function onClosed(stats: ViewerStats, reason: string): void {
  if (stats.closedAt !== undefined) return;
  stats.closedAt = performance.now();
  stats.closeReason = reason;
}

/** FLV bytes in: scan for the keyframe until it is seen, then only count. */
function flvSink(stats: ViewerStats, gapLimitMs: number, fail: (reason: string) => void, latency?: LatencyRecorder): (data: Buffer) => void {
  const scanner = new FlvKeyframeScanner();
  // A probe walks every tag; the demuxer keeps what it is fed, so it gets its own copy.
  const demuxer = latency && new FlvDemuxer();
  return (data) => {
    if (demuxer && latency) {
      try {
        const now = performance.now();
        for (const tag of demuxer.feed(Buffer.from(data))) if (tag.type === FLV_TAG_VIDEO) latency.record(tag.timestampMs, now);
      } catch (err) {
        fail(`bad FLV: ${errorMessage(err)}`);
        return;
      }
    }
    if (!scanner.keyframeSeen) {
      try {
        if (scanner.feed(data)) onKeyframe(stats);
      } catch (err) {
        fail(`bad FLV: ${errorMessage(err)}`);
        return;
      }
    }
    onBytes(stats, data.length, gapLimitMs);
  };
}

function openHttpFlv({ target, gapLimitMs, readBuffer, latency }: ViewerContext): Viewer {
  const stats = newStats();
  const onread = {
    buffer: readBuffer,
    callback: (n: number): boolean => {
      onData(readBuffer.subarray(0, n));
      return true;
    },
  };
  const socket = connect({ port: target.httpPort, host: target.host, onread });
  const fail = (reason: string): void => {
    onClosed(stats, reason);
    socket.destroy();
  };
  const deliver = flvSink(stats, gapLimitMs, fail, latency);
  let head: Buffer | undefined = Buffer.alloc(0);
  let chunked: ChunkedDecoder | undefined;
  socket.on('connect', () => {
    onConnected(stats);
    socket.write(
      `GET /${target.app}/${target.stream}.flv HTTP/1.1\r\nHost: ${target.host}:${target.httpPort}\r\n` +
        'User-Agent: gateway-fanout-bench\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n',
    );
  });
  const onData = (chunk: Buffer): void => {
    if (head) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_RESPONSE_HEAD) fail('response head too long');
        return;
      }
      const text = head.toString('latin1', 0, end);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      if (status !== '200') return fail(`HTTP ${status ?? '?'}: ${text.split('\r\n', 1)[0]}`);
      if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(text)) chunked = new ChunkedDecoder();
      onAccepted(stats);
      chunk = head.subarray(end + 4);
      head = undefined;
      if (chunk.length === 0) return;
    }
    if (!chunked) return deliver(chunk);
    try {
      chunked.feed(chunk, deliver);
    } catch (err) {
      fail(errorMessage(err));
    }
  };
  socket.on('error', (err) => onClosed(stats, `socket error: ${err.message}`));
  socket.on('close', () => onClosed(stats, 'server closed'));
  return { stats, close: () => fail('closed by bench') };
}

function openWsFlv({ target, gapLimitMs, latency }: ViewerContext): Viewer {
  const stats = newStats();
  const ws = new WebSocket(`ws://${target.host}:${target.httpPort}/${target.app}/${target.stream}.flv`, {
    perMessageDeflate: false,
    // Our own connection only to see when TCP connects (before the upgrade is answered).
    createConnection: ((options: NetConnectOpts) => {
      const socket = createConnection(options);
      socket.once('connect', () => onConnected(stats));
      return socket;
    }) as typeof createConnection,
  });
  const fail = (reason: string): void => {
    onClosed(stats, reason);
    ws.terminate();
  };
  const deliver = flvSink(stats, gapLimitMs, fail, latency);
  ws.on('open', () => onAccepted(stats));
  ws.on('message', (data: Buffer) => deliver(data));
  ws.on('unexpected-response', (_req, res) => fail(`HTTP ${res.statusCode ?? '?'} instead of an upgrade`));
  ws.on('error', (err) => onClosed(stats, `ws error: ${err.message}`));
  ws.on('close', (code, reason) => onClosed(stats, `ws close ${code} ${reason.toString()}`));
  return { stats, close: () => fail('closed by bench') };
}

function openRtmp({ target, gapLimitMs, readBuffer }: ViewerContext): Viewer {
  const stats = newStats();
  const client = new RtmpPlayClient({
    host: target.host,
    port: target.rtmpPort,
    app: target.app,
    stream: target.stream,
    readBuffer,
    handlers: {
      onData: (n) => {
        onConnected(stats);
        onBytes(stats, n, gapLimitMs);
      },
      onKeyframe: () => onKeyframe(stats),
      onStatus: (code, level) => {
        if (code === 'NetStream.Play.Start') onAccepted(stats);
        if (level === 'error') client.close(`onStatus ${code}`);
      },
      onClose: (reason) => onClosed(stats, reason),
    },
  });
  return { stats, close: () => client.close('closed by bench') };
}

/** An RTMP latency probe: the project's RTMP client, which reads every message's timestamp. */
function openRtmpProbe({ target, gapLimitMs }: ViewerContext, latency: LatencyRecorder): Viewer {
  const stats = newStats();
  let client: RtmpClient | undefined;
  let closed = false;
  let counted = 0;
  RtmpClient.open({
    url: `rtmp://${target.host}:${target.rtmpPort}/${target.app}/${target.stream}`,
    mode: 'play',
    log: silentLogger(),
    connectTimeoutMs: 20_000,
    stallTimeoutMs: 60_000,
    onMessage: (message) => {
      const now = performance.now();
      if (client) {
        onBytes(stats, client.bytesIn - counted, gapLimitMs);
        counted = client.bytesIn;
      }
      if (message.typeId !== MessageType.video) return;
      latency.record(message.timestamp, now);
      if (stats.firstKeyAt === undefined && isVideoKeyframe(message.body[0] ?? 0, message.body[1])) onKeyframe(stats);
    },
    onClose: (err) => onClosed(stats, err.message),
  }).then(
    (opened) => {
      client = opened;
      onConnected(stats);
      onAccepted(stats);
      if (closed) opened.close('closed by bench');
    },
    (err: unknown) => onClosed(stats, errorMessage(err)),
  );
  return {
    stats,
    close: () => {
      closed = true;
      onClosed(stats, 'closed by bench');
      client?.close('closed by bench');
    },
  };
}

export function openViewer(protocol: Protocol, context: ViewerContext): Viewer {
  if (protocol === 'flv') return openHttpFlv(context);
  if (protocol === 'rtsp') return openRtspViewer(context, { newStats, onBytes, onKeyframe, onClosed });
  if (protocol === 'ws') return openWsFlv(context);
  if (context.latency) return openRtmpProbe(context, context.latency);
  return openRtmp(context);
}
