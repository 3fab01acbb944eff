import type { WebSocket } from 'ws';
import type { Frame } from '../../core/frame';
import type { Sink, SinkDescription, StreamInfo } from '../../core/sink';
import type { Track } from '../../core/track';
import { FlvViewerMuxer, type FlvBodyCache } from '../../formats/flv/viewer-muxer';

/**
 * One WebSocket-FLV viewer (mpegts.js / flv.js): each frame's FLV tag is one binary message.
 * The tag parts are joined per message (ws frames a message as one payload); the bodies are
 * still built once per stream.
 */
export class WsFlvSink implements Sink {
  private bytesOut = 0;
  private muxer: FlvViewerMuxer | undefined;
  private ended = false;

  constructor(
    private readonly socket: WebSocket,
    /** Resolved at start, when the stream (and its shared body cache) exists. */
    private readonly bodyCache: () => FlvBodyCache,
    private readonly remote: string,
  ) {}

  onStart(info: StreamInfo): void {
    this.muxer = new FlvViewerMuxer(this.bodyCache());
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
    closeWebSocket(this.socket, 1000, reason);
  }

  pendingBytes(): number {
    return this.socket.bufferedAmount;
  }

  describe(): SinkDescription {
    return { protocol: 'ws-flv', remote: this.remote, bytesOut: this.bytesOut };
  }

  private send(buffers: readonly Buffer[]): void {
    if (buffers.length === 0 || this.socket.readyState !== this.socket.OPEN) return;
    const message = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers as Buffer[]);
    this.bytesOut += message.length;
    this.socket.send(message, { binary: true, compress: false });
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
