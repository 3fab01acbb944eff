import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Frame } from '../../core/frame';
import type { Sink, SinkDescription, StreamInfo } from '../../core/sink';
import type { Track } from '../../core/track';
import { FlvViewerMuxer, type FlvTagCache } from '../../formats/flv/viewer-muxer';

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
 * One WebSocket-FLV viewer (mpegts.js / flv.js): each frame's FLV tag is one binary message.
 * Media frames are written straight to the upgraded socket as [frame header, tag parts] in one
 * writev, so the frame's shared Buffers are never copied per viewer (ws.send would need them
 * joined). ws keeps the connection itself: it reads the client's frames, answers pings and
 * closes. Each frame is written whole within one synchronous call, so frames never interleave
 * with the control frames ws writes.
 */
export class WsFlvSink implements Sink {
  private bytesOut = 0;
  private ended = false;
  private muxer: FlvViewerMuxer | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    /** Resolved at start, when the stream (and its shared body cache) exists. */
    private readonly tagCache: () => FlvTagCache,
    private readonly remote: string,
  ) {}

  onStart(info: StreamInfo): void {
    this.muxer = new FlvViewerMuxer(this.tagCache());
    this.send(this.muxer.start(info));
  }

  onTracks(tracks: readonly Track[]): void {
    this.send(this.muxer?.tracks(tracks) ?? []);
  }

  onFrame(frame: Frame): void {
    this.send(this.muxer?.frame(frame) ?? []);
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

  private send(parts: readonly Buffer[]): void {
    if (parts.length === 0 || this.ws.readyState !== this.ws.OPEN || this.socket.destroyed) return;
    let length = 0;
    for (const part of parts) length += part.length;
    const header = binaryFrameHeader(length);
    this.socket.cork();
    this.socket.write(header);
    for (const part of parts) this.socket.write(part);
    this.socket.uncork();
    this.bytesOut += header.length + length;
  }
}

/** Closes with a reason trimmed to the 123 bytes a close frame allows. */
export function closeWebSocket(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === socket.CLOSED || socket.readyState === socket.CLOSING) return;
  let text = reason;
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  try {
    socket.close(code, text);
  } catch {
    socket.terminate();
  }
}
