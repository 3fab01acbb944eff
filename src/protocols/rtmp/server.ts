/**
 * The RTMP server: accepts TCP connections on rtmp://HOST:PORT and runs one RtmpSession per
 * connection. Publish and play go through the hub registry (`${app}/${stream}`).
 */
import type { ByteBudget } from '../../core/budget';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../../core/log';
import type { HevcMode } from '../../formats/flv/bodies';
import type { Registry } from '../../hub/registry';
import { readIntoBuffer } from '../shared/read-buffer';
import { RtmpSession, type SessionSnapshot } from './session';

export type { SessionSnapshot } from './session';

export interface RtmpServerOptions {
  host: string;
  /** 0 picks a free port (see `listen()`). */
  port: number;
  registry: Registry;
  logger: Logger;
  /** How H.265 goes to players: Enhanced RTMP FourCC 'hvc1' (default) or legacy codec id 12. */
  hevcMode?: HevcMode;
  /** Outgoing chunk size announced to every client. Default 4096. */
  chunkSize?: number;
  /** Close a session idle this long (publisher sends nothing, player reads nothing). Default 30 s. */
  idleTimeoutMs?: number;
  /** Close a connection that has not finished handshake + connect within this. Default 10 s. */
  handshakeTimeoutMs?: number;
  /**
   * TCP_NODELAY for players once they play (handshake and commands always use it). Default
   * false: the kernel merges small writes, which costs players far less CPU (SRS's default too).
   */
  playNoDelay?: boolean;
  /** Most concurrent connections. Default 10000. */
  maxConnections?: number;
  /** Close a session whose socket queues more than this. Default 64 MiB. */
  maxWriteBufferBytes?: number;
  /** Bytes all connections together may hold for partly received messages (rtmp.partialBudget). */
  partialBudget?: ByteBudget;
}

export class RtmpServer {
  private readonly server: Server;
  private readonly live = new Map<string, RtmpSession>();
  /** Every open socket, also those of sessions still flushing their last messages. */
  private readonly sockets = new Set<Socket>();
  private readonly log: Logger;
  private sequence = 0;
  private closing: Promise<void> | undefined;
  /**
   * Every plain-TCP connection reads into this one Buffer (each read is parsed, and what is kept
   * copied, before the next): no ArrayBuffer per read (see shared/read-buffer.ts).
   */
  private readonly readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

  constructor(private readonly options: RtmpServerOptions) {
    const chunkSize = options.chunkSize ?? 4096;
    if (!Number.isInteger(chunkSize) || chunkSize < 128 || chunkSize > 0xffffff) {
      throw new RangeError(`RTMP chunkSize ${chunkSize} out of range (128..16777215)`);
    }
    this.log = options.logger;
    this.server = createServer((socket) => this.accept(socket));
    this.server.maxConnections = options.maxConnections ?? 10_000;
    this.server.on('error', (err) => this.log.error({ err }, 'RTMP server error'));
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        const port = (this.server.address() as AddressInfo).port;
        this.log.info({ host: this.options.host, port }, 'RTMP listening');
        resolve({ port });
      });
    });
  }

  /** Stops accepting and closes every session. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const session of [...this.live.values()]) session.close('server shutting down');
      for (const socket of this.sockets) socket.destroy();
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
    });
    return this.closing;
  }

  sessions(): SessionSnapshot[] {
    return [...this.live.values()].map((s) => s.snapshot());
  }

  /** Closes one session by id; false if there is none. */
  kick(id: string, reason = 'kicked'): boolean {
    const session = this.live.get(id);
    if (!session) return false;
    session.close(reason, true);
    return true;
  }

  /** Runs a session on a connected socket: this server's own, or one the RTMPS listener (src/app/tls) decrypted. */
  accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const id = `rtmp-${++this.sequence}`;
    let session: RtmpSession | undefined;
    const externalReads = readIntoBuffer(socket, this.readBuffer, (bytes) => session?.connection.receive(bytes));
    session = new RtmpSession(socket, {
      id,
      registry: this.options.registry,
      logger: this.log,
      hevcMode: this.options.hevcMode ?? 'enhanced',
      chunkSize: this.options.chunkSize ?? 4096,
      idleTimeoutMs: this.options.idleTimeoutMs ?? 30_000,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 10_000,
      windowAckSize: 2_500_000,
      maxWriteBufferBytes: this.options.maxWriteBufferBytes ?? 64 * 1024 * 1024,
      ...(this.options.partialBudget ? { partialBudget: this.options.partialBudget } : {}),
      maxStreams: 8,
      playNoDelay: this.options.playNoDelay ?? false,
      externalReads,
      onClose: (s) => this.live.delete(s.id),
    });
    this.live.set(id, session);
  }
}
