import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Frame } from '../../core/frame';
import type { FeedKey, Sink, SinkDescription, StreamInfo } from '../../core/sink';
import type { Track } from '../../core/track';
import type { HevcMode } from '../../formats/flv/bodies';
import { FlvViewerMuxer, type FlvTagCache } from '../../formats/flv/viewer-muxer';
import { closeWebSocket } from '../shared/sockets';

const OPCODE_BINARY_FINAL = 0x82;

/**
 * The header of one unmasked, final, binary WebSocket frame (server to client).
 * Spec: RFC 6455 §5.2
 */
export function binaryFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([OPCODE_BINARY_FINAL, length]);
  if (length < 0x10000) {
    const header = Buffer.allocUnsafe(4);
    header[0] = OPCODE_BINARY_FINAL;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = OPCODE_BINARY_FINAL;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/**
 * The WebSocket frame (header + FLV tag) of each frame's shared FLV tag, built once per stream
 * and shared by every WebSocket-FLV viewer of it: a viewer writes one Buffer per frame. Kept
 * weakly by the tag (itself kept by its frame), so a GOP replay is framed once for all joiners.
 */
export class WsFrameCache {
  /** The stream's WebSocket frames per H.265 flavour, leased by each WS-FLV viewer. */
  static readonly FEEDS: Readonly<Record<HevcMode, FeedKey<WsFrameCache>>> = {
    enhanced: { name: 'ws-flv-frames:enhanced', create: () => new WsFrameCache() },
    legacy: { name: 'ws-flv-frames:legacy', create: () => new WsFrameCache() },
  };

  private lastTag: Buffer | undefined;
  private lastFrame: Buffer = Buffer.alloc(0);
  private readonly frames = new WeakMap<Buffer, Buffer>();

  frame(tag: Buffer): Buffer {
    if (tag === this.lastTag) return this.lastFrame;
    let frame = this.frames.get(tag);
    if (!frame) {
      frame = Buffer.concat([binaryFrameHeader(tag.length), tag]);
      this.frames.set(tag, frame);
    }
    this.lastTag = tag;
    this.lastFrame = frame;
    return frame;
  }
}

/**
 * One WebSocket-FLV viewer (mpegts.js / flv.js): each frame's FLV tag is one binary message.
 * Frames are written straight to the upgraded socket, the media ones as the stream's shared
 * WebSocket frame, so nothing is copied or framed per viewer (ws.send frames per call). ws
 * keeps the connection itself: it reads the client's frames, answers pings and closes. Each
 * frame is written whole within one synchronous call, so frames never interleave with the
 * control frames ws writes.
 */
export class WsFlvSink implements Sink {
  private bytesOut = 0;
  private ended = false;
  private muxer: FlvViewerMuxer | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    /** Resolved at start, when the stream (and its shared caches) exists. */
    private readonly caches: (info: StreamInfo) => { tags: FlvTagCache; frames: WsFrameCache },
    private readonly remote: string,
  ) {}

  private frames: WsFrameCache | undefined;

  onStart(info: StreamInfo): void {
    const caches = this.caches(info);
    this.muxer = new FlvViewerMuxer(caches.tags);
    this.frames = caches.frames;
    // The FLV start and the GOP replay the hub delivers right after onStart leave in one writev.
    this.socket.cork();
    process.nextTick(() => this.socket.uncork());
    this.send(this.muxer.start(info));
  }

  onTracks(tracks: readonly Track[]): void {
    this.send(this.muxer?.tracks(tracks) ?? []);
  }

  onFrame(frame: Frame): void {
    const muxer = this.muxer;
    if (!muxer) return;
    const tag = muxer.sharedTag(frame);
    if (tag !== undefined && this.frames) return this.write(this.frames.frame(tag));
    const parts = muxer.frame(frame);
    if (parts.length === 1 && this.frames) this.write(this.frames.frame(parts[0]!));
    else this.send(parts);
  }

  onEnd(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    closeWebSocket(this.ws, 1000, reason);
  }

  pendingBytes(): number {
    return this.socket.writableLength;
  }

  describe(): SinkDescription {
    return { protocol: 'ws-flv', remote: this.remote, bytesOut: this.bytesOut };
  }

  /** Frames `parts` as one message of this viewer's own. */
  private send(parts: readonly Buffer[]): void {
    if (parts.length === 0 || !this.writable()) return;
    let length = 0;
    for (const part of parts) length += part.length;
    const header = binaryFrameHeader(length);
    this.socket.cork();
    this.socket.write(header);
    for (const part of parts) this.socket.write(part);
    this.socket.uncork();
    this.bytesOut += header.length + length;
  }

  /** Writes an already framed, shared message. */
  private write(message: Buffer): void {
    if (!this.writable()) return;
    this.socket.write(message);
    this.bytesOut += message.length;
  }

  private writable(): boolean {
    return this.ws.readyState === this.ws.OPEN && !this.socket.destroyed;
  }
}
