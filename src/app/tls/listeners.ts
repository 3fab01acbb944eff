/**
 * The TLS listeners (tls.https, tls.rtmps, tls.rtsps): each is a TLS server in front of the
 * plain server's own code. HTTPS hands its requests and upgrades to the same fastify app (one
 * set of routes, hooks and guards for http:// and https://, ws:// and wss://); RTMPS and RTSPS
 * hand each decrypted socket to the RTMP and RTSP servers' `accept`, so sessions, limits and
 * the sessions API are the same whatever the transport.
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../../config/schema';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import { clientError } from '../http-errors';
import { TlsCertificates } from './certificates';
import { readServerTls, type CertificateSummary, type ServerTls } from './files';

export interface TlsPorts {
  https?: number;
  rtmps?: number;
  rtsps?: number;
}

/** A plain server that takes sockets from another listener (RtmpServer). */
export interface SocketAcceptor {
  accept(socket: Socket): void;
}

/** Makes the TLS server a protocol server listens through (the RTSP server's `listener` option). */
export type TlsListenerFactory = (onSocket: (socket: Socket) => void) => TlsServer;

/** A protocol server that owns its listener (RtspServer made with a TlsListenerFactory). */
export interface OwnListener {
  listen(): Promise<{ port: number }>;
  close(): Promise<void>;
}

type ListenerName = keyof TlsPorts;

/** Connections at once on the RTMPS and RTSPS listeners (RtmpServer's own default cap). */
const MAX_SOCKET_CONNECTIONS = 10_000;

interface Listener {
  readonly name: ListenerName;
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** True when a TLS listener is enabled (then tls.cert and tls.key must load). */
export function tlsWanted(config: GatewayConfig): boolean {
  const { https, rtmps, rtsps } = config.tls;
  return https.enabled || rtmps.enabled || rtsps.enabled;
}

/** Reads the certificate when a TLS listener is enabled; throws CONFIG_INVALID naming the file. */
export function loadServerTls(config: GatewayConfig): ServerTls | undefined {
  return tlsWanted(config) ? readServerTls(config.tls) : undefined;
}

export class TlsListeners {
  private readonly listeners: Listener[] = [];
  private readonly certificates: TlsCertificates;
  private closing: Promise<void> | undefined;

  /** `dropped` counts connections refused over a listener's cap (`Limits`, tls.maxConnections). */
  constructor(
    private readonly config: GatewayConfig,
    initial: ServerTls,
    private readonly log: Logger,
    private readonly dropped: (details?: object) => void = () => undefined,
  ) {
    this.certificates = new TlsCertificates(config.tls, log, initial);
  }

  get certificate(): CertificateSummary {
    return this.certificates.summary;
  }

  /** RTMPS (tls.rtmps): every decrypted socket is a session of the one RTMP server. */
  serveRtmp(rtmp: SocketAcceptor | undefined): void {
    if (!this.config.tls.rtmps.enabled || !rtmp) return;
    this.add(
      'rtmps',
      this.config.rtmp.host,
      this.config.tls.rtmps.port,
      this.tlsServer((socket) => rtmp.accept(socket)),
    );
  }

  /**
   * RTSPS (tls.rtsps): `make` builds an RTSP server (the plain one's settings, port
   * tls.rtsps.port) listening through the factory given; this module starts and stops it.
   */
  serveRtsp(make: (listener: TlsListenerFactory, port: number) => OwnListener): void {
    if (!this.config.tls.rtsps.enabled) return;
    const server = make((onSocket) => this.watched('rtsps', this.tlsServer(onSocket)), this.config.tls.rtsps.port);
    this.listeners.push({
      name: 'rtsps',
      listen: async () => {
        const { port } = await server.listen();
        this.log.info({ listener: 'rtsps', host: this.config.rtsp.host, port }, 'RTSPS listening');
        return port;
      },
      close: () => server.close(),
    });
  }

  /** HTTPS and WSS (tls.https) on the app's routes; returns the server for the HTTP limits, or undefined. */
  serveHttp(app: FastifyInstance): HttpsServer | undefined {
    if (!this.config.tls.https.enabled) return undefined;
    const http = this.config.http;
    const server = createHttpsServer(
      {
        ...this.certificates.options,
        handshakeTimeout: this.config.tls.handshakeTimeout * 1000,
        requestTimeout: http.requestTimeout * 1000,
        headersTimeout: http.headersTimeout * 1000,
        connectionsCheckingInterval: Math.min(5000, Math.max(250, (http.headersTimeout * 1000) / 4)),
      },
      (request: IncomingMessage, response: ServerResponse) => app.routing(request, response),
    );
    // @fastify/websocket routes the upgrades of app.server: the HTTPS ones take the same path.
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => app.server.emit('upgrade', request, socket, head));
    server.on('clientError', clientError);
    this.add('https', http.host, this.config.tls.https.port, server);
    return server;
  }

  /** Binds every listener; resolves with their ports. */
  async start(): Promise<TlsPorts> {
    const ports: TlsPorts = {};
    for (const listener of this.listeners) ports[listener.name] = await listener.listen();
    this.certificates.watch(this.config.tls.watchDelay * 1000);
    return ports;
  }

  /** SIGHUP: the files are read again; a bad pair is logged and the old one kept. */
  reload(reason: string): boolean {
    return this.certificates.reload(reason);
  }

  /** Stops accepting and ends the TLS connections left (their sessions were closed by their servers). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.certificates.close();
      await Promise.allSettled(this.listeners.map((listener) => listener.close()));
    })();
    return this.closing;
  }

  private tlsServer(onSocket: (socket: Socket) => void): TlsServer {
    const options = { ...this.certificates.options, handshakeTimeout: this.config.tls.handshakeTimeout * 1000 };
    const server = createTlsServer(options, (socket: TLSSocket) => {
      if (this.closing) socket.destroy();
      else onSocket(socket);
    });
    // The plain RTMP server's cap: sockets still in their handshake are not yet its sessions.
    server.maxConnections = MAX_SOCKET_CONNECTIONS;
    server.on('drop', (data?: { remoteAddress?: string }) => this.dropped({ remote: data?.remoteAddress, cap: MAX_SOCKET_CONNECTIONS }));
    return server;
  }

  /** Handshake failures logged, the context following reloads. */
  private watched<S extends TlsServer>(name: ListenerName, server: S): S {
    server.on('error', (err) => this.log.error({ listener: name, err }, 'TLS listener error'));
    // A client that fails the handshake (wrong trust, plain text on the TLS port) costs its own socket only.
    server.on('tlsClientError', (err, socket) =>
      this.log.debug({ listener: name, remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`, err: errorMessage(err) }, 'TLS handshake failed'),
    );
    this.certificates.attach(server);
    return server;
  }

  /** A TLS server this module listens on and closes itself (HTTPS, RTMPS). */
  private add(name: ListenerName, host: string, port: number, server: TlsServer): void {
    this.watched(name, server);
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    this.listeners.push({
      name,
      listen: () =>
        new Promise((resolve, reject) => {
          const onError = (err: Error): void => reject(new Error(`${name} cannot listen on ${host}:${port}: ${errorMessage(err)}`));
          server.once('error', onError);
          server.listen(port, host, () => {
            server.off('error', onError);
            const bound = (server.address() as AddressInfo).port;
            this.log.info({ listener: name, host, port: bound }, `${name.toUpperCase()} listening`);
            resolve(bound);
          });
        }),
      close: () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          if (!server.listening) resolve();
          else server.close(() => resolve());
        }),
    });
  }
}
