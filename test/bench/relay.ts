/**
 * The Node relay ceiling: a trivial Node program that writes the same pre-built bytes to every
 * socket, one write per frame, with a GOP replay for joiners and no hub, muxer or routing. What
 * the gateway costs above it is what the gateway itself adds. Serves the bench source looped in
 * real time as HTTP-FLV (raw socket, `Connection: close` body), WebSocket-FLV (one binary frame
 * per tag) and RTMP (simple handshake, connect/createStream/play answered, chunk size 4096).
 *
 *   node dist/test/bench/relay.js SOURCE.flv [--flv-no-delay]   (prints {"http":PORT,"rtmp":PORT} once listening)
 *
 * Sockets keep Node's default (Nagle on); `--flv-no-delay` sets TCP_NODELAY on the HTTP-FLV and
 * WebSocket-FLV viewers, as the gateway's http.flvNoDelay does, for a ceiling with the same TCP setting.
 *
 * Spec: RFC 6455 §4.2.2 (the upgrade answer), §5.2 (frames); RTMP 1.0 §5.2, §5.3, §7.2.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { flvFileHeader, flvTag, FLV_TAG_SCRIPT, FLV_TAG_VIDEO } from '../../src/formats/flv/tag';
import { encodeAmf0 } from '../../src/formats/amf0/amf0';
import { ChunkReader } from '../../src/protocols/rtmp/chunk-reader';
import { chunkMessage } from '../../src/protocols/rtmp/chunk-writer';
import { connectResultMessage, decodeCommand, onStatusMessage, resultMessage, statusInfo } from '../../src/protocols/rtmp/command';
import { setChunkSizeMessage } from '../../src/protocols/rtmp/control';
import { HANDSHAKE_SIZE } from '../../src/protocols/rtmp/handshake';
import { ChunkStream, MessageType, type OutgoingMessage } from '../../src/protocols/rtmp/message';
import { binaryFrameHeader } from '../../src/protocols/ws-flv/ws-flv-sink';
import { loadFlvSource, type FlvSource, type SourceTag } from './flv-source';

type Kind = 'flv' | 'ws' | 'rtmp';
const KINDS: readonly Kind[] = ['flv', 'ws', 'rtmp'];
const CHUNK_SIZE = 4096;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One frame's bytes for each protocol, built once. */
type Built = Record<Kind, Buffer>;

function concat(parts: readonly Buffer[]): Buffer {
  return Buffer.concat(parts);
}

function rtmpMedia(tag: Pick<SourceTag, 'type' | 'body'>, timestamp: number): Buffer {
  const video = tag.type === FLV_TAG_VIDEO;
  const message: OutgoingMessage = {
    chunkStreamId: video ? ChunkStream.video : ChunkStream.audio,
    typeId: video ? MessageType.video : MessageType.audio,
    streamId: 1,
    timestamp,
    body: [tag.body],
  };
  return concat(chunkMessage(message, CHUNK_SIZE));
}

function build(tag: Pick<SourceTag, 'type' | 'body'>, timestamp: number): Built {
  const flv = concat(flvTag(tag.type, timestamp, [tag.body]));
  return { flv, ws: concat([binaryFrameHeader(flv.length), flv]), rtmp: rtmpMedia(tag, timestamp) };
}

class Relay {
  private readonly viewers: Record<Kind, Set<Socket>> = { flv: new Set(), ws: new Set(), rtmp: new Set() };
  /** Per protocol: what a joiner gets first (FLV header, metadata, sequence headers). */
  private readonly intro: Record<Kind, Buffer>;
  private gop: Built[] = [];
  private index = 0;
  private loop = 0;
  private readonly startedAt = performance.now();

  constructor(private readonly source: FlvSource) {
    const meta = encodeAmf0('onMetaData', source.metadata ?? {});
    const headers = source.headers.map((t) => build(t, 0));
    const fileStart = concat([flvFileHeader({ hasVideo: true, hasAudio: true }), ...flvTag(FLV_TAG_SCRIPT, 0, [meta])]);
    const flvIntro = concat([fileStart, ...headers.map((h) => h.flv)]);
    const wsIntro = concat([binaryFrameHeader(fileStart.length), fileStart, ...headers.map((h) => h.ws)]);
    const rtmpMeta = concat(chunkMessage({ chunkStreamId: ChunkStream.data, typeId: MessageType.dataAmf0, streamId: 1, timestamp: 0, body: [meta] }, CHUNK_SIZE));
    this.intro = { flv: flvIntro, ws: wsIntro, rtmp: concat([rtmpMeta, ...headers.map((h) => h.rtmp)]) };
    this.schedule();
  }

  join(kind: Kind, socket: Socket, head: Buffer): void {
    socket.cork();
    socket.write(concat([head, this.intro[kind]]));
    for (const built of this.gop) socket.write(built[kind]);
    socket.uncork();
    this.viewers[kind].add(socket);
    socket.once('close', () => this.viewers[kind].delete(socket));
  }

  private dueAt(): number {
    return this.startedAt + this.loop * this.source.durationMs + this.source.frames[this.index]!.timestampMs;
  }

  private schedule(): void {
    setTimeout(() => this.sendDue(), Math.max(0, this.dueAt() - performance.now()));
  }

  private sendDue(): void {
    const now = performance.now();
    while (this.dueAt() <= now) {
      const tag = this.source.frames[this.index]!;
      const built = build(tag, this.loop * this.source.durationMs + tag.timestampMs);
      if (tag.keyframe) this.gop = [];
      this.gop.push(built);
      for (const kind of KINDS) for (const socket of this.viewers[kind]) socket.write(built[kind]);
      if (++this.index === this.source.frames.length) {
        this.index = 0;
        this.loop++;
      }
    }
    this.schedule();
  }
}

/** HTTP GET: an FLV body until close, or a WebSocket upgrade. */
function serveHttp(relay: Relay, socket: Socket): void {
  let head: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    socket.off('data', onData);
    socket.on('data', () => undefined);
    const text = head.toString('latin1', 0, end);
    const key = /\r\nsec-websocket-key:\s*([^\r]+)/i.exec(text)?.[1]?.trim();
    if (key) {
      const accept = createHash('sha1')
        .update(key + WS_GUID)
        .digest('base64');
      relay.join('ws', socket, Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`, 'latin1'));
    } else {
      relay.join('flv', socket, Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nConnection: close\r\n\r\n', 'latin1'));
    }
  };
  socket.on('data', onData);
}

/** Simple handshake (S2 echoes C1), then connect, createStream and play answered. */
function serveRtmp(relay: Relay, socket: Socket): void {
  let handshake: Buffer | undefined = Buffer.alloc(0) as Buffer;
  const reader = new ChunkReader();
  const send = (messages: OutgoingMessage[], chunkSize = CHUNK_SIZE): void => void socket.write(concat(messages.flatMap((m) => chunkMessage(m, chunkSize))));
  socket.on('data', (chunk: Buffer) => {
    if (handshake) {
      const before = handshake.length;
      handshake = concat([handshake, chunk]);
      if (before < 1 + HANDSHAKE_SIZE && handshake.length >= 1 + HANDSHAKE_SIZE) {
        const c1 = handshake.subarray(1, 1 + HANDSHAKE_SIZE);
        socket.write(concat([Buffer.from([3]), Buffer.alloc(HANDSHAKE_SIZE), c1]));
      }
      if (handshake.length < 1 + 2 * HANDSHAKE_SIZE) return;
      chunk = handshake.subarray(1 + 2 * HANDSHAKE_SIZE);
      handshake = undefined;
    }
    for (const message of reader.feed(chunk)) {
      if (message.typeId !== MessageType.commandAmf0) continue;
      const command = decodeCommand(message);
      if (command.name === 'connect') {
        send([setChunkSizeMessage(CHUNK_SIZE)], 128);
        send([connectResultMessage(command.transactionId, 0)]);
      } else if (command.name === 'createStream') {
        send([resultMessage(command.transactionId, 1)]);
      } else if (command.name === 'play') {
        const start = onStatusMessage(1, statusInfo('status', 'NetStream.Play.Start', 'Started playing.'));
        relay.join('rtmp', socket, concat(chunkMessage(start, CHUNK_SIZE)));
      }
    }
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path) throw new Error('usage: relay.js SOURCE.flv [--flv-no-delay]');
  const flvNoDelay = process.argv.includes('--flv-no-delay');
  const relay = new Relay(loadFlvSource(path));
  const http = createServer((socket) => {
    if (flvNoDelay) socket.setNoDelay(true);
    serveHttp(relay, socket);
  });
  const rtmp = createServer((socket) => serveRtmp(relay, socket));
  for (const server of [http, rtmp]) server.on('connection', (socket) => socket.on('error', () => socket.destroy()));
  const ports = { http: await listen(http), rtmp: await listen(rtmp) };
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  process.once('SIGTERM', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`relay: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
