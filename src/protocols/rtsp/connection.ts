import { connect, type Socket } from 'node:net';
import { ParseError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import { buildAuthorization, chooseChallenge, parseChallenges, type Challenge, type ChosenChallenge, type DigestState } from './auth';
import { RtspError, socketFailure } from './errors';
import { RtspReader, encodeInterleaved, header, serializeRequest, serializeResponse, type RtspResponse, type RtspServerRequest } from './message';
import type { Credentials } from './url';

export interface RtspConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly userAgent: string;
  readonly credentials?: Credentials;
  readonly log: Logger;
  /** `$` frames: RTP/RTCP over the control connection. `data` is only valid during the call. */
  readonly onInterleaved?: (channel: number, data: Buffer) => void;
  /** The connection ended without `close()`: the server hung up, sent garbage or stopped answering. */
  readonly onClose?: (err: RtspError) => void;
}

interface Pending {
  readonly cseq: number;
  readonly method: string;
  readonly resolve: (response: RtspResponse) => void;
  readonly reject: (err: RtspError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One TCP control connection to an RTSP server: requests with CSeq, answers matched to them,
 * 401 answered once with the credentials (Basic or Digest), `$` frames passed through.
 * Requests go one at a time, which every camera copes with.
 * Spec: RFC 2326 §12.17 (CSeq), §12.37 (Session), §10.12 (interleaved data).
 */
export class RtspConnection {
  /** Set by the session layer after SETUP; sent with every later request. */
  session: string | undefined;
  bytesIn = 0;
  private readonly reader = new RtspReader();
  private readonly pending: Pending[] = [];
  private cseq = 0;
  private challenge: ChosenChallenge | undefined;
  private digestState: DigestState = { nc: 0 };
  private isClosed = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly socket: Socket,
    private readonly options: RtspConnectionOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(socketFailure(err, `${options.host}:${options.port}`)));
    socket.on('close', () => this.fail(new RtspError('unreachable', `${options.host}:${options.port} closed the connection`)));
  }

  /** Opens the TCP connection; rejects with an `unreachable` RtspError. */
  static open(options: RtspConnectionOptions): Promise<RtspConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host, port: options.port });
      const target = `${options.host}:${options.port}`;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RtspError('unreachable', `${target} did not accept a connection within ${options.connectTimeoutMs} ms`));
      }, options.connectTimeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(socketFailure(err, target));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new RtspConnection(socket, options));
      });
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  /**
   * Sends a request and waits for its answer. A 401 is answered once with the credentials;
   * a second 401 (or none to give) rejects with an `auth` RtspError. Other statuses resolve:
   * the caller decides what they mean.
   */
  request(method: string, uri: string, headers: readonly (readonly [string, string])[] = [], body?: Buffer): Promise<RtspResponse> {
    const run = async (): Promise<RtspResponse> => {
      let response = await this.send(method, uri, headers, body);
      if (response.status !== 401) return response;
      const credentials = this.options.credentials;
      if (!credentials) throw new RtspError('auth', `${method} needs credentials and the URL and config give none`);
      const chosen = chooseChallenge(this.readChallenges(response));
      if (!chosen)
        throw new RtspError(
          'auth',
          `the server asks for an authentication scheme we cannot answer (${(response.headers.get('www-authenticate') ?? []).map((h) => /^\s*([A-Za-z]{1,20})/.exec(h)?.[1] ?? '?').join(', ')})`,
        );
      // Always one retry under the new challenge: some cameras hand out a fresh nonce per request.
      this.challenge = chosen;
      this.digestState = { nc: 0 };
      response = await this.send(method, uri, headers, body);
      if (response.status === 401) throw new RtspError('auth', `user "${credentials.username}" was refused (401 ${response.reason})`);
      return response;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Writes an RTP/RTCP packet on `channel`. False when the connection is closed. */
  sendInterleaved(channel: number, packet: Buffer): boolean {
    if (this.isClosed) return false;
    this.socket.write(encodeInterleaved(channel, packet));
    return true;
  }

  /** Closes the socket; pending requests reject. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.rejectAll(new RtspError('unreachable', 'the connection was closed'));
    this.socket.destroy();
  }

  private readChallenges(response: RtspResponse): Challenge[] {
    const out: Challenge[] = [];
    for (const value of response.headers.get('www-authenticate') ?? []) {
      try {
        out.push(...parseChallenges(value));
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        this.options.log.debug({ err: err.message }, 'unreadable WWW-Authenticate ignored');
      }
    }
    return out;
  }

  private send(method: string, uri: string, extra: readonly (readonly [string, string])[], body?: Buffer): Promise<RtspResponse> {
    if (this.isClosed) return Promise.reject(new RtspError('unreachable', `cannot send ${method}: the connection is closed`));
    const cseq = ++this.cseq;
    const headers: [string, string][] = [
      ['CSeq', String(cseq)],
      ['User-Agent', this.options.userAgent],
    ];
    if (this.session !== undefined) headers.push(['Session', this.session]);
    if (this.challenge && this.options.credentials) {
      headers.push(['Authorization', buildAuthorization(this.challenge, this.options.credentials, method, uri, this.digestState)]);
    }
    for (const [name, value] of extra) headers.push([name, value]);
    const bytes = serializeRequest({ method, uri, headers, ...(body ? { body } : {}) });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new RtspError('timeout', `${method} got no answer within ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this.pending.push({ cseq, method, resolve, reject, timer });
      this.socket.write(bytes);
    });
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    let items;
    try {
      items = this.reader.feed(chunk);
    } catch (err) {
      this.fail(new RtspError('protocol', `the server sent something that is not RTSP: ${errorMessage(err)}`));
      return;
    }
    for (const item of items) {
      if (this.isClosed) return;
      if (item.kind === 'interleaved') this.options.onInterleaved?.(item.channel, item.data);
      else if (item.kind === 'response') this.onResponse(item);
      else this.answerServerRequest(item);
    }
  }

  private onResponse(response: RtspResponse): void {
    const cseqText = header(response.headers, 'cseq');
    const cseq = cseqText !== undefined && /^\s*\d+\s*$/.test(cseqText) ? Number(cseqText) : undefined;
    let index = cseq === undefined ? 0 : this.pending.findIndex((p) => p.cseq === cseq);
    // Some cameras omit CSeq or echo a wrong one: requests go one at a time, so the answer is the oldest's.
    if (index < 0) index = 0;
    const pending = this.pending[index];
    if (!pending) {
      this.options.log.debug({ status: response.status, cseq }, 'unsolicited RTSP response ignored');
      return;
    }
    this.pending.splice(index, 1);
    clearTimeout(pending.timer);
    pending.resolve(response);
  }

  /** Cameras sometimes probe the client: answer OPTIONS/GET_PARAMETER, refuse the rest. */
  private answerServerRequest(request: RtspServerRequest): void {
    const cseq = header(request.headers, 'cseq') ?? '0';
    const ok = request.method === 'OPTIONS' || request.method === 'GET_PARAMETER';
    this.socket.write(serializeResponse(ok ? 200 : 501, ok ? 'OK' : 'Not Implemented', [['CSeq', cseq.slice(0, 16)]]));
  }

  private fail(err: RtspError): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.rejectAll(err);
    this.socket.destroy();
    this.options.onClose?.(err);
  }

  private rejectAll(err: RtspError): void {
    for (const pending of this.pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
  }
}
