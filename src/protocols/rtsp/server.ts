import net from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from '../../hub/registry';
import { RtspServerConnection } from './server-session';
import type { RtspCredentials } from './server-auth';
import { osPortAllocator, type UdpPortAllocator } from './udp';

/**
 * Makes the listening server and hands it every accepted socket. Plain RTSP uses
 * `net.createServer`; RTSPS passes `(onSocket) => tls.createServer(options, onSocket)` (a
 * tls.Server is a net.Server whose sockets are TLSSockets), so the sessions never know.
 */
export type RtspListenerFactory = (onSocket: (socket: net.Socket) => void) => net.Server;

export const plainRtspListener: RtspListenerFactory = (onSocket) => net.createServer(onSocket);

export interface RtspServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly logger: Logger;
  /** A session with no request (RTSP keepalive) for this long is closed. Spec: RFC 2326 §12.37. */
  readonly sessionTimeoutMs?: number;
  /** Where connections come from (default: plain TCP). */
  readonly listener?: RtspListenerFactory;
  /** UDP transport's server ports (the app passes the shared RTP port pool); OS-chosen by default. */
  readonly udpPorts?: UdpPortAllocator;
  /** The gateway's credentials for Basic/Digest; without them RTSP authenticates by URL query only. */
  readonly credentials?: RtspCredentials;
  /** Refuse UDP (461): RTSPS, whose media must stay inside the TLS connection. */
  readonly interleavedOnly?: boolean;
}

/** RTSP server: play and publish over TCP interleaved or UDP; every session a hub reader or publisher. */
export class RtspServer {
  private readonly server: net.Server;
  private readonly connections = new Set<RtspServerConnection>();

  constructor(private readonly options: RtspServerOptions) {
    this.server = (options.listener ?? plainRtspListener)((socket) => this.accept(socket));
  }

  listen(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve({ port: (this.server.address() as net.AddressInfo).port });
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close('server closing');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const remote = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
    const connection = new RtspServerConnection(socket, {
      registry: this.options.registry,
      log: this.options.logger.child({ remote }),
      remote,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? 60_000,
      udpPorts: this.options.udpPorts ?? osPortAllocator,
      ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
      interleavedOnly: this.options.interleavedOnly ?? false,
    });
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
  }
}
