/**
 * RTMP pull: plays rtmp:// or rtmps:// from another server and publishes it into the hub
 * (the pull proxies of src/app/rtsp-proxy take this for rtmp URLs). Media goes through the
 * same ingest as an RTMP publisher, so timestamps continue across reconnects.
 */
import type { Logger } from '../../core/log';
import type { Publisher } from '../../core/source';
import { metadataOf, decodeData } from './command';
import { RtmpClient, RtmpClientError, type RtmpTlsOptions } from './client';
import { MessageType, type RtmpMessage } from './message';
import { RtmpIngest } from './publish';
import { ParseError } from '../../core/errors';

export interface RtmpPullOptions {
  readonly url: string;
  readonly log: Logger;
  readonly connectTimeoutMs: number;
  /** No media this long while playing: the pull ends (then the proxy reconnects). */
  readonly stallTimeoutMs: number;
  readonly tls?: RtmpTlsOptions;
  /** Called once, when the first message of the played stream arrives (or play started). */
  readonly openPublisher: () => Publisher;
  /** The pull died after `start()` resolved. Not called after `close()`. */
  readonly onClose: (err: RtmpClientError) => void;
}

export class RtmpPull {
  private client: RtmpClient | undefined;
  private ingest: RtmpIngest | undefined;
  private closed = false;
  private bytesBefore = 0;

  constructor(private readonly options: RtmpPullOptions) {}

  /** Connects and plays; rejects with an RtmpClientError (or the publisher's GatewayError). */
  async start(): Promise<void> {
    const client = await RtmpClient.open({
      url: this.options.url,
      mode: 'play',
      log: this.options.log,
      connectTimeoutMs: this.options.connectTimeoutMs,
      stallTimeoutMs: this.options.stallTimeoutMs,
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      onMessage: (message) => this.onMessage(message),
      onClose: (err) => {
        if (this.closed || this.client !== client) return;
        this.options.onClose(err);
      },
    });
    this.client = client;
    if (this.closed) {
      client.close('closed while starting');
      return;
    }
    try {
      this.ensureIngest();
    } catch (err) {
      client.close('the stream path is busy');
      throw err;
    }
  }

  stats(): { bytes: number } {
    return { bytes: this.bytesBefore + (this.client?.bytesIn ?? 0) };
  }

  async close(reason: string): Promise<void> {
    this.closed = true;
    this.client?.close(reason);
  }

  private ensureIngest(): RtmpIngest {
    this.ingest ??= new RtmpIngest(this.options.openPublisher(), this.options.log);
    return this.ingest;
  }

  private onMessage(message: RtmpMessage): void {
    if (this.closed) return;
    // Media can arrive in the same read as Play.Start, before start() has resumed.
    let ingest: RtmpIngest;
    try {
      ingest = this.ensureIngest();
    } catch {
      return; // start() reports it
    }
    if (message.typeId === MessageType.dataAmf0 || message.typeId === MessageType.dataAmf3) {
      try {
        const meta = metadataOf(decodeData(message));
        if (meta) ingest.metadata(meta);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
      }
      return;
    }
    ingest.media(message.typeId, message.timestamp, message.body);
  }
}
