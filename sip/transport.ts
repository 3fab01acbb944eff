import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { BudgetSpentError, type ByteBudget } from '../src/core/budget';
import { errorMessage } from '../src/core/errors';
import { RateLimitedLog, type Logger } from '../src/core/log';
import { SipStreamFramer } from './framing';
import { isRequest, parseSipMessage, serializeSipMessage, type SipMessage } from './message';

export type SipProtocol = 'udp' | 'tcp';

/** Where a message came from or goes to: the packet source, never what the peer claims. */
export interface SipRemote {
  readonly protocol: SipProtocol;
  readonly address: string;
  readonly port: number;
}

export interface SipTransportOptions {
  host: string;
  /** 0: any free port (UDP first, then TCP on the same number). */
  port: number;
  udp?: boolean;
  tcp?: boolean;
  /** Close a TCP connection idle for this long, ms. */
  tcpIdleMs?: number;
  /** Most simultaneous TCP connections. */
  maxTcpConnections?: number;
  /** UDP receive buffer: bursts of REGISTERs from thousands of devices must not overflow it. */
  udpRecvBufferSize?: number;
  /** Largest body of a TCP message; larger ones get 513 Message Too Large (sip.tcpMaxBody). */
  tcpMaxBody?: number;
  /** Shared by every TCP connection: bytes of unfinished messages (sip.tcpPartialBudget). */
  tcpBudget?: ByteBudget;
  log: Logger;
}

export interface SipTransportHandlers {
  /** `data`: the message as received (kept by the SIP log; not reused by the transport). */
  onMessage(message: SipMessage, remote: SipRemote, data: Buffer): void;
  /** A datagram or stream message that is not SIP (counted, for the per-device log). */
  onMalformed?(data: Buffer, remote: SipRemote, reason: string): void;
}

export interface TransportStats {
  received: number;
  sent: number;
  malformed: number;
  tcpConnections: number;
}

export function remoteKey(remote: Pick<SipRemote, 'address' | 'port'>): string {
  return `${remote.address}:${remote.port}`;
}

const MAX_UDP_DATAGRAM = 65_535;

/**
 * SIP over UDP and TCP on one port. Messages are parsed with the `sip` package (message.ts);
 * TCP streams are framed by Content-Length. A response or request to a TCP peer reuses its
 * connection, or opens one to the address if it is gone. One malformed message costs that
 * message (UDP) or that connection (TCP), never the transport.
 */
export class SipTransport {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Map<string, Socket>();
  private readonly stats: TransportStats = { received: 0, sent: 0, malformed: 0, tcpConnections: 0 };
  private readonly malformedLog: RateLimitedLog;
  private readonly tooLargeLog: RateLimitedLog;
  /** TCP messages refused for their size since start. */
  tooLarge = 0;
  private boundPort = 0;
  private closed = false;

  constructor(
    private readonly options: SipTransportOptions,
    private readonly handlers: SipTransportHandlers,
  ) {
    this.malformedLog = new RateLimitedLog(options.log.warn.bind(options.log), 'malformed SIP messages dropped', 5000);
    this.tooLargeLog = new RateLimitedLog(options.log.warn.bind(options.log), 'SIP over TCP: message over the size cap refused with 513', 5000);
  }

  get port(): number {
    return this.boundPort;
  }

  async listen(): Promise<{ port: number }> {
    const wantUdp = this.options.udp !== false;
    const wantTcp = this.options.tcp !== false;
    for (let attempt = 0; ; attempt++) {
      let port = this.options.port;
      if (wantUdp) port = await this.bindUdp(port);
      try {
        if (wantTcp) port = await this.listenTcp(port);
        this.boundPort = port;
        return { port };
      } catch (err) {
        // Port 0: the OS gave UDP a port whose TCP twin is taken; try another pair.
        if (this.options.port !== 0 || attempt >= 5) throw err;
        await new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve()));
        this.udp = undefined;
      }
    }
  }

  /** Serialises and sends; returns the bytes sent (undefined once closed). */
  send(message: SipMessage, remote: SipRemote): Buffer | undefined {
    if (this.closed) return undefined;
    const data = serializeSipMessage(message);
    this.stats.sent++;
    if (remote.protocol === 'udp') {
      this.udp?.send(data, remote.port, remote.address, (err) => {
        if (err) this.options.log.debug({ err: errorMessage(err), remote: remoteKey(remote) }, 'UDP send failed');
      });
      return data;
    }
    let socket = this.connections.get(remoteKey(remote));
    if (!socket || socket.destroyed) socket = this.connectTcp(remote);
    socket.write(data);
    return data;
  }

  /** Whether a live TCP connection to `remote` exists (a request to a gone one opens a new one). */
  hasConnection(remote: Pick<SipRemote, 'address' | 'port'>): boolean {
    const socket = this.connections.get(remoteKey(remote));
    return !!socket && !socket.destroyed;
  }

  snapshot(): TransportStats {
    return { ...this.stats, tcpConnections: this.connections.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.connections.values()) socket.destroy();
    this.connections.clear();
    await Promise.all([
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve())),
    ]);
  }

  private bindUdp(port: number): Promise<number> {
    const socket = createSocket({ type: this.options.host.includes(':') ? 'udp6' : 'udp4' });
    this.udp = socket;
    socket.on('message', (data, rinfo) => this.received(data, { protocol: 'udp', address: rinfo.address, port: rinfo.port }));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.options.host, () => {
        socket.off('error', reject);
        try {
          socket.setRecvBufferSize(this.options.udpRecvBufferSize ?? 4 * 1024 * 1024);
        } catch (err) {
          this.options.log.debug({ err: errorMessage(err) }, 'cannot enlarge the SIP UDP receive buffer');
        }
        socket.on('error', (err) => this.options.log.warn({ err: errorMessage(err) }, 'SIP UDP socket error'));
        resolve(socket.address().port);
      });
    });
  }

  private listenTcp(port: number): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.options.maxTcpConnections ?? 20_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.host, () => {
        server.off('error', reject);
        this.tcp = server;
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.attach(socket, { protocol: 'tcp', address: normalizeAddress(socket.remoteAddress), port: socket.remotePort ?? 0 });
  }

  private connectTcp(remote: SipRemote): Socket {
    const socket = connect({ host: remote.address, port: remote.port });
    this.attach(socket, remote);
    return socket;
  }

  private attach(socket: Socket, remote: SipRemote): void {
    const key = remoteKey(remote);
    const framer = new SipStreamFramer({
      ...(this.options.tcpMaxBody ? { maxBody: this.options.tcpMaxBody } : {}),
      ...(this.options.tcpBudget ? { budget: this.options.tcpBudget } : {}),
      onTooLarge: (head, length) => this.refuseTooLarge(head, length, remote),
    });
    this.connections.get(key)?.destroy();
    this.connections.set(key, socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.options.tcpIdleMs ?? 600_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = framer.feed(chunk);
      } catch (err) {
        if (!(err instanceof BudgetSpentError)) this.malformed(chunk, remote, errorMessage(err));
        socket.destroy();
        return;
      }
      for (const message of messages) this.received(message, remote);
    });
    socket.on('error', (err) => this.options.log.debug({ err: errorMessage(err), remote: key }, 'SIP TCP connection error'));
    socket.on('close', () => {
      framer.release();
      if (this.connections.get(key) === socket) this.connections.delete(key);
    });
  }

  private received(data: Buffer, remote: SipRemote): void {
    if (this.closed) return;
    if (remote.protocol === 'udp' && data.length > MAX_UDP_DATAGRAM) return;
    // RFC 5626 keep-alive (CRLF only): nothing to parse.
    if (data.length <= 4 && data.every((b) => b === 0x0d || b === 0x0a)) return;
    let message: SipMessage;
    try {
      message = parseSipMessage(data);
    } catch (err) {
      this.malformed(data, remote, errorMessage(err));
      return;
    }
    this.stats.received++;
    try {
      this.handlers.onMessage(message, remote, data);
    } catch (err) {
      this.options.log.error({ err, remote: remoteKey(remote) }, 'SIP message handler failed');
    }
  }

  /** A stateless 513 (the body was never read, so no transaction exists for it). */
  private refuseTooLarge(head: Buffer, contentLength: number, remote: SipRemote): void {
    this.tooLarge++;
    let message: SipMessage | undefined;
    try {
      message = parseSipMessage(head);
    } catch {
      message = undefined;
    }
    this.tooLargeLog.hit({ remote: remoteKey(remote), contentLength, cap: this.options.tcpMaxBody, method: message && isRequest(message) ? message.method : undefined });
    if (!message || !isRequest(message)) return;
    const { via, from, to, 'call-id': callId, cseq } = message.headers;
    this.send({ status: 513, reason: 'Message Too Large', headers: { via, from, to, 'call-id': callId, cseq } }, remote);
  }

  private malformed(data: Buffer, remote: SipRemote, reason: string): void {
    this.stats.malformed++;
    this.malformedLog.hit({ remote: remoteKey(remote), reason });
    try {
      this.handlers.onMalformed?.(data, remote, reason);
    } catch {
      // diagnostics only
    }
  }
}

/** `::ffff:127.0.0.1` -> `127.0.0.1`, so that UDP and TCP peers compare equal. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
