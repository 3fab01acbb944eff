/**
 * An RTMP viewer for load tests on the gateway's own RTMP client (src/protocols/rtmp/client.ts:
 * handshake, connect / createStream / play, acknowledgements, ping answers, one chunk reader).
 * The reader runs head-only: media message bodies are never assembled or copied (only their
 * first two bytes are handed out, to find the first keyframe), so a thousand of these stay
 * cheap next to the server they load.
 */
import { errorMessage } from '../../src/core/errors';
import { silentLogger } from '../../src/core/log';
import { RtmpClient } from '../../src/protocols/rtmp/client';
import { MessageType, type RtmpMessage } from '../../src/protocols/rtmp/message';
import { isVideoKeyframe } from './flv-scan';

export interface RtmpPlayHandlers {
  /** Every socket read (byte count), handshake included. */
  onData?(bytes: number): void;
  /** The first two bytes of a video keyframe message arrived. */
  onKeyframe?(): void;
  /** Every onStatus code the server sends (NetStream.Play.Start ...). */
  onStatus?(code: string, level: string): void;
  /** Once, when the connection is gone (by either side, or refused). */
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
  /** Until playing (handshake, connect, play); a loaded machine needs long. Default 60 s. */
  connectTimeoutMs?: number;
}

/** Media body bytes handed out: the FLV video tag's first two (frame type, packet type). */
const MEDIA_HEAD_BYTES = 2;
/** A viewer that gets no media this long is dropped by the client (the bench counts stalls itself). */
const STALL_TIMEOUT_MS = 120_000;

/** One RTMP viewer. It connects at construction; `close()` is idempotent. */
export class RtmpPlayClient {
  /** Every byte read from the socket, handshake included. */
  bytesIn = 0;
  keyframeSeen = false;
  private client: RtmpClient | undefined;
  private readonly handlers: RtmpPlayHandlers;
  private readonly abort = new AbortController();
  private ended = false;

  constructor(options: RtmpPlayOptions) {
    this.handlers = options.handlers ?? {};
    RtmpClient.open({
      url: `rtmp://${options.host}:${options.port}/${options.app}/${options.stream}`,
      mode: 'play',
      log: silentLogger(),
      connectTimeoutMs: options.connectTimeoutMs ?? 60_000,
      stallTimeoutMs: STALL_TIMEOUT_MS,
      mediaHeadBytes: MEDIA_HEAD_BYTES,
      signal: this.abort.signal,
      ...(options.readBuffer ? { readBuffer: options.readBuffer } : {}),
      onRead: (bytes) => {
        this.bytesIn += bytes;
        this.handlers.onData?.(bytes);
      },
      onStatus: (code, level) => this.handlers.onStatus?.(code, level),
      onMessage: (message) => this.onMedia(message),
      onClose: (err) => this.end(err.message),
    }).then(
      (client) => (this.client = client),
      (err: unknown) => this.end(errorMessage(err)),
    );
  }

  close(reason = 'closed by client'): void {
    this.end(reason);
    this.abort.abort();
    this.client?.close(reason);
  }

  /** Reports the first reason the viewer ended for, once. */
  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.onClose?.(reason);
  }

  private onMedia(message: RtmpMessage): void {
    if (this.keyframeSeen || message.typeId !== MessageType.video || message.body.length === 0) return;
    if (!isVideoKeyframe(message.body[0]!, message.body[1])) return;
    this.keyframeSeen = true;
    this.handlers.onKeyframe?.();
  }
}
