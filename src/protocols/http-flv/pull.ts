/**
 * HTTP-FLV pull: reads http(s)://HOST/.../NAME.flv (a live FLV over a chunked response, as
 * nginx-http-flv, SRS, node-media-server and this gateway serve it) and publishes it into the
 * hub through the FLV ingest (the same one RTMP publish and the RTMP pull use).
 *
 * Spec: Adobe FLV File Format Specification v10.1 §E (the stream is an FLV file without end).
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { GatewayError, ParseError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Publisher } from '../../core/source';
import { amf0Properties, decodeAmf0 } from '../../formats/amf0/amf0';
import { FlvDemuxer } from '../../formats/flv/demuxer';
import { FlvIngest } from '../../formats/flv/ingest';
import { FLV_TAG_SCRIPT } from '../../formats/flv/tag';
import { checkPeer, tlsClientOptions, type TlsTrust } from '../shared/tls';

export type HttpFlvFailure = 'unreachable' | 'not-found' | 'auth' | 'timeout' | 'protocol';

export class HttpFlvPullError extends GatewayError {
  constructor(
    readonly failure: HttpFlvFailure,
    message: string,
  ) {
    super('SOURCE_START_FAILED', message);
  }
}

export interface HttpFlvPullOptions {
  readonly url: string;
  readonly log: Logger;
  readonly connectTimeoutMs: number;
  /** No bytes this long: the pull ends (then the proxy reconnects). */
  readonly stallTimeoutMs: number;
  /** https: the CAs trusted besides Node's bundle, and whether a self-signed certificate is accepted. */
  readonly tls?: TlsTrust;
  readonly openPublisher: () => Publisher;
  /** The pull died after `start()` resolved. Not called after `close()`. */
  readonly onClose: (err: HttpFlvPullError) => void;
}

export class HttpFlvPull {
  private request: ClientRequest | undefined;
  private readonly demuxer = new FlvDemuxer();
  private ingest: FlvIngest | undefined;
  private bytes = 0;
  private lastData = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private started = false;

  constructor(private readonly options: HttpFlvPullOptions) {}

  /** Resolves on a 200 response whose body starts as FLV; rejects with HttpFlvPullError. */
  start(): Promise<void> {
    const url = new URL(this.options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new HttpFlvPullError('protocol', `not an http(s) URL: ${url.protocol}`));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: HttpFlvPullError): void => {
        if (settled) {
          if (err) this.end(err);
          return;
        }
        settled = true;
        clearTimeout(connectTimer);
        if (err) {
          this.closed = true;
          this.request?.destroy();
          reject(err);
        } else {
          this.started = true;
          resolve();
        }
      };
      const connectTimer = setTimeout(() => settle(new HttpFlvPullError('timeout', `no FLV within ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const secure = url.protocol === 'https:';
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const tls = secure ? tlsClientOptions(host, Number(url.port || 443), this.options.tls) : {};
      const req = send(url, { method: 'GET', headers: { 'user-agent': 'surveillance-media-gateway' }, ...tls });
      this.request = req;
      if (secure) req.once('socket', (socket) => socket.once('secureConnect', () => this.verify(req, socket as TLSSocket, host)));
      req.on('response', (res) => this.onResponse(res, settle));
      req.on('error', (err: NodeJS.ErrnoException) => settle(new HttpFlvPullError('unreachable', `cannot read ${url.host}: ${err.code ?? errorMessage(err)}`)));
      req.end();
    });
  }

  private verify(req: ClientRequest, socket: TLSSocket, host: string): void {
    const refused = checkPeer(socket, host, this.options.tls);
    if (refused) req.destroy(refused);
  }

  stats(): { bytes: number } {
    return { bytes: this.bytes };
  }

  async close(_reason: string): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.request?.destroy();
  }

  private onResponse(res: IncomingMessage, settle: (err?: HttpFlvPullError) => void): void {
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      res.resume();
      const failure: HttpFlvFailure = status === 404 ? 'not-found' : status === 401 || status === 403 ? 'auth' : 'protocol';
      settle(new HttpFlvPullError(failure, `the server answered HTTP ${status}`));
      return;
    }
    this.lastData = performance.now();
    this.timer = setInterval(
      () => {
        if (performance.now() - this.lastData > this.options.stallTimeoutMs) settle(new HttpFlvPullError('timeout', `no data for ${this.options.stallTimeoutMs} ms`));
      },
      Math.max(200, Math.min(2000, this.options.stallTimeoutMs / 4)),
    );
    this.timer.unref();
    res.on('data', (chunk: Buffer) => this.onData(chunk, settle));
    res.on('end', () => settle(new HttpFlvPullError('unreachable', 'the server ended the response')));
    res.on('error', (err) => settle(new HttpFlvPullError('unreachable', `the response broke: ${errorMessage(err)}`)));
  }

  private onData(chunk: Buffer, settle: (err?: HttpFlvPullError) => void): void {
    if (this.closed) return;
    this.bytes += chunk.length;
    this.lastData = performance.now();
    try {
      const tags = this.demuxer.feed(chunk);
      if (!this.started) settle();
      if (tags.length === 0) return;
      this.ingest ??= new FlvIngest(this.options.openPublisher(), this.options.log);
      for (const tag of tags) {
        if (tag.type === FLV_TAG_SCRIPT) this.script(this.ingest, tag.body);
        else this.ingest.media(tag.type, tag.timestampMs, Buffer.from(tag.body));
      }
    } catch (err) {
      if (err instanceof ParseError) settle(new HttpFlvPullError('protocol', `bad FLV: ${err.message}`));
      else if (err instanceof GatewayError) settle(new HttpFlvPullError('protocol', err.message));
      else throw err;
    }
  }

  /** onMetaData is optional: a malformed script tag costs itself. */
  private script(ingest: FlvIngest, body: Buffer): void {
    let values: ReturnType<typeof decodeAmf0>;
    try {
      values = decodeAmf0(body);
    } catch (err) {
      if (err instanceof ParseError) return;
      throw err;
    }
    const [name, value] = values;
    if (name !== 'onMetaData') return;
    const meta = amf0Properties(value ?? null);
    if (meta) ingest.metadata(meta);
  }

  private end(err: HttpFlvPullError): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.request?.destroy();
    this.options.onClose(err);
  }
}
