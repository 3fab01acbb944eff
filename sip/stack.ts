import type { ByteBudget } from '../src/core/budget';
import { randomBytes } from 'node:crypto';
import * as kirm from 'sip';
import { GatewayError, errorMessage } from '../src/core/errors';
import type { Logger } from '../src/core/log';
import { fromKirm, isRequest, toKirm, type NameAddr, type SipHeaders, type SipMessage, type SipRequest, type SipResponse } from './message';
import { SipTransport, type SipProtocol, type SipRemote, type TransportStats } from './transport';

export interface SipTraceEvent {
  readonly direction: 'in' | 'out';
  readonly remote: SipRemote;
  readonly at: number;
  /** The bytes on the wire (each retransmission is an event of its own). */
  readonly data: Buffer;
  /** Undefined for a malformed incoming message. */
  readonly message?: SipMessage;
  /** Malformed input: why it was dropped, and its first bytes. */
  readonly malformed?: { reason: string; head: string };
}

export interface SipStackOptions {
  host: string;
  port: number;
  /** The address put in our Via and Contact headers (never 0.0.0.0). */
  advertisedHost: string;
  userAgent?: string;
  udp?: boolean;
  tcp?: boolean;
  log: Logger;
  onTrace?: (event: SipTraceEvent) => void;
  /** TCP message size cap and the shared budget for unfinished TCP messages. */
  tcpMaxBody?: number;
  tcpBudget?: ByteBudget;
}

export interface ReplyOptions {
  headers?: Record<string, unknown>;
  content?: Buffer;
  contentType?: string;
}

/** A request from a peer, answered once (retransmissions are absorbed by its transaction). */
export interface IncomingRequest {
  readonly request: SipRequest;
  readonly remote: SipRemote;
  reply(status: number, reason: string, options?: ReplyOptions): void;
}

export interface RequestOptions {
  /** 1xx responses. */
  onProvisional?: (response: SipResponse) => void;
  /** Retransmitted 2xx of an INVITE after the first one: the caller re-sends its ACK. */
  onRetransmitted2xx?: (response: SipResponse) => void;
}

export interface NewRequestFields {
  method: string;
  uri: string;
  from: NameAddr;
  to: NameAddr;
  callId?: string;
  cseq?: number;
  contact?: boolean;
  contentType?: string;
  content?: Buffer;
  headers?: Record<string, unknown>;
}

/**
 * The SIP stack gb28181/ talks to: our transport (UDP+TCP, port 0 supported) under the `sip`
 * package's RFC 3261 transaction layer (retransmissions, timers E/F/K, INVITE client
 * transaction, server transactions absorbing retransmitted requests).
 * Spec: RFC 3261 §17
 */
export class SipStack {
  private readonly transport: SipTransport;
  private readonly transactions: kirm.KirmTransactionLayer;
  private readonly pending = new Set<(err: Error) => void>();
  private closed = false;
  /** Tags, branches and Call-IDs: a random prefix and a counter (unique, not secret; nonces use crypto). */
  private readonly tokenPrefix = randomBytes(8).toString('hex');
  private tokenCounter = randomBytes(4).readUInt32BE(0);

  constructor(
    private readonly options: SipStackOptions,
    private readonly onRequest: (request: IncomingRequest) => void,
  ) {
    this.transactions = kirm.makeTransactionLayer({}, null);
    this.transport = new SipTransport(
      { host: options.host, port: options.port, udp: options.udp, tcp: options.tcp, log: options.log, tcpMaxBody: options.tcpMaxBody, tcpBudget: options.tcpBudget },
      {
        onMessage: (message, remote, data) => this.dispatch(message, remote, data),
        onMalformed: (data, remote, reason) =>
          this.trace({ direction: 'in', remote, at: Date.now(), data: data.subarray(0, 200), malformed: { reason, head: data.subarray(0, 200).toString('latin1') } }),
      },
    );
  }

  get port(): number {
    return this.transport.port;
  }

  get advertisedHost(): string {
    return this.options.advertisedHost;
  }

  async listen(): Promise<{ port: number }> {
    return this.transport.listen();
  }

  stats(): TransportStats {
    return this.transport.snapshot();
  }

  /** TCP messages refused with 513 for their size. */
  get tooLargeCount(): number {
    return this.transport.tooLarge;
  }

  hasConnection(remote: Pick<SipRemote, 'address' | 'port'>): boolean {
    return this.transport.hasConnection(remote);
  }

  /** Builds a request with fresh tags, Call-ID and CSeq unless given. */
  newRequest(fields: NewRequestFields): SipRequest {
    const headers: SipHeaders = {
      via: [],
      from: { ...fields.from, params: { tag: this.token(6), ...fields.from.params } },
      to: fields.to,
      'call-id': fields.callId ?? `${this.token(12)}@${this.options.advertisedHost}`,
      cseq: { seq: fields.cseq ?? 1 + Math.floor(Math.random() * 10_000), method: fields.method },
      'max-forwards': '70',
      ...(fields.contact ? { contact: [this.contact(fields.from)] } : {}),
      ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
      ...(fields.contentType ? { 'content-type': fields.contentType } : {}),
      ...fields.headers,
    };
    return { method: fields.method, uri: fields.uri, headers, content: fields.content };
  }

  /** Our Contact for `from` (our id at our advertised address and port). */
  contact(from: NameAddr): NameAddr {
    const user = /^sips?:([^@;>]+)@/.exec(from.uri)?.[1];
    return { uri: `sip:${user ? `${user}@` : ''}${this.options.advertisedHost}:${this.port}`, params: {} };
  }

  /**
   * Sends a request in a client transaction; resolves with the final response (a 408 made by
   * the transaction layer when the peer never answers). Rejects only when the stack closes.
   */
  request(request: SipRequest, remote: SipRemote, options: RequestOptions = {}): Promise<SipResponse> {
    if (this.closed) return Promise.reject(new GatewayError('CLOSED', 'the SIP stack is closed'));
    request.headers.via = [this.via(remote.protocol), ...request.headers.via];
    return this.send(request, remote, options);
  }

  private send(request: SipRequest, remote: SipRemote, options: RequestOptions): Promise<SipResponse> {
    const raw = toKirm(request);
    return new Promise<SipResponse>((resolve, reject) => {
      let final = false;
      const fail = (err: Error): void => {
        if (!final) reject(err);
        final = true;
      };
      this.pending.add(fail);
      const connection = this.connection(remote);
      this.transactions.createClientTransaction(connection, raw, (rs) => {
        const response = fromKirm(rs) as SipResponse;
        if (!response.reason && response.status === 408) response.reason = 'Request Timeout';
        if (response.status < 200) {
          options.onProvisional?.(response);
          return;
        }
        if (final) {
          if (response.status < 300) options.onRetransmitted2xx?.(response);
          return;
        }
        final = true;
        this.pending.delete(fail);
        resolve(response);
      });
    });
  }

  /**
   * CANCELs an INVITE we sent (still without a final answer): same Request-URI, Call-ID, From,
   * To and CSeq number, and the INVITE's own top Via (its branch), in a transaction of its own.
   * Spec: RFC 3261 §9.1
   */
  cancel(invite: SipRequest, remote: SipRemote): Promise<SipResponse> {
    if (this.closed) return Promise.reject(new GatewayError('CLOSED', 'the SIP stack is closed'));
    const top = invite.headers.via[0];
    if (!top) return Promise.reject(new GatewayError('PROTOCOL_ERROR', 'CANCEL of a request that was never sent'));
    const cancel: SipRequest = {
      method: 'CANCEL',
      uri: invite.uri,
      headers: {
        via: [top],
        from: invite.headers.from,
        to: invite.headers.to,
        'call-id': invite.headers['call-id'],
        cseq: { seq: invite.headers.cseq.seq, method: 'CANCEL' },
        'max-forwards': '70',
        ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
      },
    };
    return this.send(cancel, remote, {});
  }

  /** Sends a request outside any transaction (ACK for a 2xx). */
  sendStateless(request: SipRequest, remote: SipRemote): void {
    if (this.closed) return;
    request.headers.via = [{ ...this.via(remote.protocol), params: { rport: null, branch: `z9hG4bK${this.token(8)}` } }];
    this.transmit(request, remote);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const fail of this.pending) fail(new GatewayError('CLOSED', 'the SIP stack is closed'));
    this.pending.clear();
    this.transactions.destroy();
    await this.transport.close();
  }

  /** A unique token for tags, branches and Call-IDs. */
  token(length = 8): string {
    this.tokenCounter = (this.tokenCounter + 1) >>> 0;
    return `${this.tokenPrefix.slice(0, Math.max(4, length * 2 - 8))}${this.tokenCounter.toString(16).padStart(8, '0')}`;
  }

  private via(protocol: SipProtocol): SipHeaders['via'][number] {
    return { version: '2.0', protocol: protocol.toUpperCase(), host: this.options.advertisedHost, port: this.port, params: protocol === 'udp' ? { rport: null } : {} };
  }

  private connection(remote: SipRemote): kirm.KirmConnection {
    return {
      protocol: remote.protocol.toUpperCase(),
      send: (m) => this.transmit(fromKirm(m), remote),
      release: () => undefined,
    };
  }

  /** Every message we put on the wire goes through here (and into the trace). */
  private transmit(message: SipMessage, remote: SipRemote): void {
    const data = this.transport.send(message, remote);
    if (data) this.trace({ direction: 'out', remote, at: Date.now(), data, message });
  }

  private dispatch(message: SipMessage, remote: SipRemote, data: Buffer): void {
    this.trace({ direction: 'in', remote, at: Date.now(), data, message });
    const raw = toKirm(message);
    if (!isRequest(message)) {
      const transaction = this.transactions.getClient(raw);
      if (transaction?.message) transaction.message(raw, remote);
      return;
    }
    // RFC 3581: answer to where the request really came from.
    const top = message.headers.via[0]!;
    top.params.received = remote.address;
    if ('rport' in top.params) top.params.rport = String(remote.port);
    const existing = this.transactions.getServer(raw);
    if (existing) {
      existing.message?.(raw, remote);
      return;
    }
    if (message.method === 'ACK') return;
    const transaction = this.transactions.createServerTransaction(raw, this.connection(remote));
    let answered = false;
    const incoming: IncomingRequest = {
      request: message,
      remote,
      reply: (status, reason, options = {}) => {
        if (answered && status >= 200) return;
        if (status >= 200) answered = true;
        transaction.send?.(toKirm(this.makeResponse(message, status, reason, options)));
      },
    };
    try {
      this.onRequest(incoming);
    } catch (err) {
      this.options.log.error({ err, method: message.method }, `SIP request handler failed: ${errorMessage(err)}`);
      incoming.reply(500, 'Server Internal Error');
    }
  }

  private makeResponse(request: SipRequest, status: number, reason: string, options: ReplyOptions): SipResponse {
    const to = { ...request.headers.to, params: { ...request.headers.to.params } };
    if (status > 100 && !to.params.tag) to.params.tag = this.token(6);
    const headers: SipHeaders = {
      via: request.headers.via,
      from: request.headers.from,
      to,
      'call-id': request.headers['call-id'],
      cseq: request.headers.cseq,
      ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
      ...(options.contentType ? { 'content-type': options.contentType } : {}),
      ...options.headers,
    };
    return { status, reason, headers, content: options.content };
  }

  private trace(event: SipTraceEvent): void {
    if (!this.options.onTrace) return;
    try {
      this.options.onTrace(event);
    } catch {
      // diagnostics must never break signalling
    }
  }
}
