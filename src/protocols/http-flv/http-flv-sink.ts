import type { Socket } from 'node:net';
import type { Frame } from '../../core/frame';
import type { Sink, SinkDescription, StreamInfo } from '../../core/sink';
import type { Track } from '../../core/track';
import { FlvViewerMuxer, type FlvTagCache } from '../../formats/flv/viewer-muxer';

/**
 * One HTTP-FLV viewer. The response is written straight to the socket (status line, headers,
 * then FLV until the connection closes): no chunked encoding, one write per frame of the
 * frame's tag shared with every other viewer, and the start with the GOP replay as one writev.
 */
export class HttpFlvSink implements Sink {
  private bytesOut = 0;
  private muxer: FlvViewerMuxer | undefined;
  private started = false;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    /** Resolved at start, when the stream (and its shared body cache) exists. */
    private readonly tagCache: (info: StreamInfo) => FlvTagCache,
    private readonly extraHeaders: string,
    private readonly remote: string,
    /** Called before the first byte: the HTTP framework must let go of the socket. */
    private readonly takeOver: () => void,
  ) {}

  onStart(info: StreamInfo): void {
    this.takeOver();
    this.started = true;
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nCache-Control: no-cache, no-store\r\nPragma: no-cache\r\n' + `Connection: close\r\n${this.extraHeaders}\r\n`;
    this.muxer = new FlvViewerMuxer(this.tagCache(info));
    // The head, the FLV start and the GOP replay that the hub delivers right after onStart
    // leave in one writev: corked until this tick's replay is done.
    this.socket.cork();
    process.nextTick(() => this.socket.uncork());
    this.write([Buffer.from(head, 'latin1'), ...this.muxer.start(info)]);
  }

  onTracks(tracks: readonly Track[]): void {
    this.write(this.muxer?.tracks(tracks) ?? []);
  }

  onFrame(frame: Frame): void {
    const muxer = this.muxer;
    if (!muxer) return;
    const tag = muxer.sharedTag(frame);
    if (tag !== undefined) this.writeOne(tag);
    else this.write(muxer.frame(frame));
  }

  onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    // Not started: the route answers with an error itself. Started: close after what is queued.
    if (this.started && !this.socket.destroyed) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
    }
  }

  pendingBytes(): number {
    return this.socket.writableLength;
  }

  describe(): SinkDescription {
    return { protocol: 'http-flv', remote: this.remote, bytesOut: this.bytesOut };
  }

  /** A frame's shared tag: a plain write (cork/uncork of one Buffer costs a writev's bookkeeping). */
  private writeOne(buffer: Buffer): void {
    if (this.socket.destroyed) return;
    this.socket.write(buffer);
    this.bytesOut += buffer.length;
  }

  private write(buffers: readonly Buffer[]): void {
    if (buffers.length === 1) return this.writeOne(buffers[0]!);
    if (this.socket.destroyed || buffers.length === 0) return;
    this.socket.cork();
    for (const buffer of buffers) {
      this.socket.write(buffer);
      this.bytesOut += buffer.length;
    }
    this.socket.uncork();
  }
}
