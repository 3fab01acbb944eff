/**
 * A minimal RTMP play client for load tests: simple handshake, connect, createStream, play,
 * Acknowledgements per the server's window, ping answers. Media message bodies are never
 * assembled or copied (only their first two bytes are looked at, until the first keyframe),
 * so a thousand of them stay cheap next to the server they load.
 *
 * Spec: RTMP 1.0 §5.2 (handshake), §5.3.1 (chunk headers), §5.4 (control messages),
 * §7.2.1 (connect, createStream), §7.2.2 (play).
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ParseError, parseAssert, errorMessage } from '../../src/core/errors';
import { amf0Properties } from '../../src/formats/amf0/amf0';
import { chunkMessage } from '../../src/protocols/rtmp/chunk-writer';
import { commandMessage, decodeCommand } from '../../src/protocols/rtmp/command';
import { acknowledgementMessage, decodeControl, pingResponseMessage, setBufferLengthMessage } from '../../src/protocols/rtmp/control';
import { HANDSHAKE_SIZE, RTMP_VERSION } from '../../src/protocols/rtmp/handshake';
import { MessageType, type OutgoingMessage } from '../../src/protocols/rtmp/message';
import { isVideoKeyframe } from './flv-scan';

/** Largest non-media message (command, metadata, control) we assemble. */
export const RTMP_PLAY_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Largest chunk size we let a server set. */
export const RTMP_PLAY_MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** Most chunk streams a server may use towards us. */
export const RTMP_PLAY_MAX_CHUNK_STREAMS = 64;
/** Basic header (3) + type-0 message header (11) + extended timestamp (4). */
const MAX_HEADER = 18;
const OUT_CHUNK_SIZE = 128;

export interface RtmpPlayHandlers {
  /** Every socket read (byte count), handshake included. */
  onData?(bytes: number): void;
  /** The first two bytes of a video keyframe message arrived. */
  onKeyframe?(): void;
  /** Every onStatus code the server sends (NetStream.Play.Start ...). */
  onStatus?(code: string, level: string): void;
  /** Once, when the connection is gone (by either side). */
  onClose?(reason: string): void;
}

export interface RtmpPlayOptions {
  host: string;
  port: number;
  app: string;
  stream: string;
  handlers?: RtmpPlayHandlers;
  /**
   * Read into this Buffer instead of a new one per read (net `onread`). Many clients may share
   * one: each read is fully handled before the next. Nothing read is kept past the call.
   */
  readBuffer?: Buffer;
}

interface ChunkStream {
  length: number;
  typeId: number;
  streamId: number;
  /** The last type 0/1/2 header had an extended timestamp: type-3 chunks repeat it. */
  extended: boolean;
  received: number;
  /** Assembled body of a non-media message in progress. */
  body: Buffer | undefined;
  head0: number;
  head1: number;
}

interface Header {
  size: number;
  csid: number;
  fmt: number;
  length: number;
  typeId: number;
  streamId: number;
  extended: boolean;
}

export type MessageHandler = (typeId: number, streamId: number, body: Buffer) => void;
export type MediaHeadHandler = (typeId: number, b0: number, b1: number | undefined) => void;

/**
 * Chunk stream walker that assembles only non-media messages. Timestamps are not tracked
 * (a load client does not need them). Set Chunk Size is applied here.
 */
export class RtmpChunkScanner {
  private chunkSize = 128;
  private readonly streams = new Map<number, ChunkStream>();
  private readonly stash = Buffer.alloc(MAX_HEADER);
  private stashLength = 0;
  private current: ChunkStream | undefined;
  private chunkLeft = 0;
  /** Look at media heads until this turns false. */
  wantMediaHeads = true;

  constructor(
    private readonly onMessage: MessageHandler,
    private readonly onMediaHead: MediaHeadHandler,
  ) {}

  feed(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.current) {
        pos = this.readPayload(chunk, pos);
        continue;
      }
      if (this.stashLength === 0) {
        const header = this.parseHeader(chunk, pos, chunk.length);
        if (!header) {
          this.stashLength = chunk.copy(this.stash, 0, pos);
          return;
        }
        pos += header.size;
        this.applyHeader(header);
        continue;
      }
      const before = this.stashLength;
      const copied = chunk.copy(this.stash, before, pos, pos + MAX_HEADER - before);
      const header = this.parseHeader(this.stash, 0, before + copied);
      if (!header) {
        this.stashLength += copied;
        return;
      }
      this.stashLength = 0;
      pos += header.size - before;
      this.applyHeader(header);
    }
  }

  private parseHeader(buf: Buffer, pos: number, end: number): Header | undefined {
    if (end - pos < 1) return undefined;
    const fmt = buf[pos]! >> 6;
    const low = buf[pos]! & 0x3f;
    let csid = low;
    let size = 1;
    if (low === 0) {
      if (end - pos < 2) return undefined;
      csid = 64 + buf[pos + 1]!;
      size = 2;
    } else if (low === 1) {
      if (end - pos < 3) return undefined;
      csid = 64 + buf[pos + 1]! + buf[pos + 2]! * 256;
      size = 3;
    }
    const state = this.streams.get(csid);
    parseAssert(fmt === 0 || state, `RTMP chunk: type ${fmt} header on new chunk stream ${csid}`);
    const h: Header = { size, csid, fmt, length: 0, typeId: 0, streamId: 0, extended: false };
    if (fmt === 3) {
      h.length = state!.length;
      h.typeId = state!.typeId;
      h.streamId = state!.streamId;
      h.extended = state!.extended;
      if (h.extended) h.size += 4;
      return end - pos < h.size ? undefined : h;
    }
    const fields = fmt === 0 ? 11 : fmt === 1 ? 7 : 3;
    if (end - pos < size + fields) return undefined;
    const p = pos + size;
    h.extended = buf.readUIntBE(p, 3) === 0xffffff;
    h.length = fmt <= 1 ? buf.readUIntBE(p + 3, 3) : state!.length;
    h.typeId = fmt <= 1 ? buf[p + 6]! : state!.typeId;
    h.streamId = fmt === 0 ? buf.readUInt32LE(p + 7) : state!.streamId;
    h.size += fields + (h.extended ? 4 : 0);
    return end - pos < h.size ? undefined : h;
  }

  private applyHeader(h: Header): void {
    let state = this.streams.get(h.csid);
    if (!state) {
      parseAssert(this.streams.size < RTMP_PLAY_MAX_CHUNK_STREAMS, 'RTMP chunk: too many chunk streams');
      state = { length: 0, typeId: 0, streamId: 0, extended: false, received: 0, body: undefined, head0: 0, head1: 0 };
      this.streams.set(h.csid, state);
    }
    const inMessage = state.received > 0 && state.received < state.length;
    parseAssert(h.fmt === 3 || !inMessage, `RTMP chunk: new header inside a message on chunk stream ${h.csid}`);
    state.length = h.length;
    state.typeId = h.typeId;
    state.streamId = h.streamId;
    state.extended = h.extended;
    if (!inMessage) {
      state.received = 0;
      const media = h.typeId === MessageType.audio || h.typeId === MessageType.video;
      if (!media) {
        parseAssert(h.length <= RTMP_PLAY_MAX_MESSAGE_BYTES, `RTMP: message of ${h.length} bytes over the cap`);
        state.body = Buffer.allocUnsafe(h.length);
      }
      if (h.length === 0) {
        this.complete(state);
        return;
      }
    }
    this.current = state;
    this.chunkLeft = Math.min(this.chunkSize, state.length - state.received);
  }

  private readPayload(chunk: Buffer, pos: number): number {
    const state = this.current!;
    const take = Math.min(this.chunkLeft, chunk.length - pos);
    if (state.body) chunk.copy(state.body, state.received, pos, pos + take);
    else if (this.wantMediaHeads && state.received < 2) this.readMediaHead(state, chunk, pos, take);
    state.received += take;
    this.chunkLeft -= take;
    if (state.received === state.length) {
      this.current = undefined;
      this.complete(state);
    } else if (this.chunkLeft === 0) {
      this.current = undefined;
    }
    return pos + take;
  }

  /** The first body bytes of a media message: reported as soon as two (or all) are in. */
  private readMediaHead(state: ChunkStream, chunk: Buffer, pos: number, take: number): void {
    if (state.received === 0) state.head0 = chunk[pos]!;
    if (state.received + take >= 2) state.head1 = chunk[pos + 1 - state.received]!;
    if (state.received + take >= Math.min(2, state.length)) {
      this.onMediaHead(state.typeId, state.head0, state.length > 1 ? state.head1 : undefined);
    }
  }

  private complete(state: ChunkStream): void {
    const body = state.body;
    state.body = undefined;
    state.received = 0;
    if (!body) return;
    if (state.typeId === MessageType.setChunkSize) {
      parseAssert(body.length >= 4, 'RTMP: short Set Chunk Size');
      const size = body.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > RTMP_PLAY_MAX_CHUNK_SIZE) throw new ParseError(`RTMP: Set Chunk Size ${size}`);
      this.chunkSize = size;
    }
    this.onMessage(state.typeId, state.streamId, body);
  }
}

/** One RTMP viewer. It connects at construction; `close()` is idempotent. */
export class RtmpPlayClient {
  /** Every byte read from the socket, handshake included (what Acknowledgements count). */
  bytesIn = 0;
  keyframeSeen = false;
  private readonly socket: Socket;
  private readonly handlers: RtmpPlayHandlers;
  private readonly scanner: RtmpChunkScanner;
  private handshake: Buffer | undefined = Buffer.alloc(1 + 2 * HANDSHAKE_SIZE);
  private handshakeFilled = 0;
  private ackWindow = 0;
  private ackedAt = 0;
  private closed = false;

  constructor(private readonly options: RtmpPlayOptions) {
    this.handlers = options.handlers ?? {};
    this.scanner = new RtmpChunkScanner(
      (typeId, streamId, body) => this.onMessage(typeId, streamId, body),
      (typeId, b0, b1) => this.onMediaHead(typeId, b0, b1),
    );
    const { host, port, readBuffer } = options;
    const onread = readBuffer && {
      buffer: readBuffer,
      callback: (n: number): boolean => {
        this.onData(readBuffer.subarray(0, n));
        return true;
      },
    };
    this.socket = connect({ host, port, ...(onread ? { onread } : {}) });
    this.socket.on('connect', () => this.sendC0C1());
    if (!onread) this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.close(`socket error: ${errorMessage(err)}`));
    this.socket.on('end', () => this.close('server ended the connection'));
    this.socket.on('close', () => this.close('socket closed'));
  }

  close(reason = 'closed by client'): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.handlers.onClose?.(reason);
  }

  private sendC0C1(): void {
    const c1 = randomBytes(HANDSHAKE_SIZE);
    c1.writeUInt32BE(0, 0);
    c1.writeUInt32BE(0, 4); // zero version field: the simple handshake
    this.socket.write(Buffer.concat([Buffer.from([RTMP_VERSION]), c1]));
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.handlers.onData?.(chunk.length);
    try {
      if (this.handshake) chunk = this.readHandshake(chunk);
      if (chunk.length > 0) this.scanner.feed(chunk);
    } catch (err) {
      this.close(`protocol error: ${errorMessage(err)}`);
      return;
    }
    if (this.ackWindow > 0 && this.bytesIn - this.ackedAt >= this.ackWindow) {
      this.ackedAt = this.bytesIn;
      this.send(acknowledgementMessage(this.bytesIn));
    }
  }

  /** Collects S0+S1+S2; answers C2 (echo of S1) and connect. Returns the bytes after S2. */
  private readHandshake(chunk: Buffer): Buffer {
    const hs = this.handshake!;
    const take = Math.min(chunk.length, hs.length - this.handshakeFilled);
    chunk.copy(hs, this.handshakeFilled, 0, take);
    this.handshakeFilled += take;
    if (this.handshakeFilled < hs.length) return chunk.subarray(chunk.length);
    parseAssert(hs[0] === RTMP_VERSION, `RTMP handshake: server version ${hs[0]}`);
    this.handshake = undefined;
    this.socket.write(hs.subarray(1, 1 + HANDSHAKE_SIZE));
    const { host, port, app } = this.options;
    this.send(
      commandMessage(0, 'connect', 1, {
        app,
        flashVer: 'LNX 9,0,124,2',
        tcUrl: `rtmp://${host}:${port}/${app}`,
        fpad: false,
        capabilities: 15,
        audioCodecs: 4071,
        videoCodecs: 252,
        videoFunction: 1,
      }),
    );
    return chunk.subarray(take);
  }

  private onMessage(typeId: number, streamId: number, body: Buffer): void {
    switch (typeId) {
      case MessageType.windowAckSize:
        this.ackWindow = body.length >= 4 ? body.readUInt32BE(0) : 0;
        return;
      case MessageType.userControl: {
        const control = decodeControl({ typeId, body });
        if (control.kind === 'pingRequest') this.send(pingResponseMessage(control.timestamp));
        return;
      }
      case MessageType.commandAmf0:
      case MessageType.commandAmf3:
        this.onCommand(typeId, streamId, body);
        return;
      default:
        return;
    }
  }

  private onCommand(typeId: number, _streamId: number, body: Buffer): void {
    const command = decodeCommand({ typeId, body });
    if (command.name === '_result' && command.transactionId === 1) {
      this.send(commandMessage(0, 'createStream', 2, null));
    } else if (command.name === '_result' && command.transactionId === 2) {
      const id = command.args[0];
      if (typeof id !== 'number') throw new ParseError('RTMP: createStream result without a stream id');
      this.send(setBufferLengthMessage(id, 1000), commandMessage(id, 'play', 0, null, this.options.stream, -2000));
    } else if (command.name === '_error') {
      const info = amf0Properties(command.args[0]);
      this.close(`server refused: ${String(info?.code ?? 'error')} ${String(info?.description ?? '')}`);
    } else if (command.name === 'onStatus') {
      const info = amf0Properties(command.args[0]);
      this.handlers.onStatus?.(String(info?.code ?? ''), String(info?.level ?? ''));
    }
  }

  private onMediaHead(typeId: number, b0: number, b1: number | undefined): void {
    if (typeId !== MessageType.video || !isVideoKeyframe(b0, b1)) return;
    this.keyframeSeen = true;
    this.scanner.wantMediaHeads = false;
    this.handlers.onKeyframe?.();
  }

  private send(...messages: OutgoingMessage[]): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.cork();
    for (const message of messages) for (const part of chunkMessage(message, OUT_CHUNK_SIZE)) this.socket.write(part);
    this.socket.uncork();
  }
}
