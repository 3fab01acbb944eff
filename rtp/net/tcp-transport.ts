import net from 'node:net';
import { Rfc4571Decoder } from '../framing/rfc4571';
import { addressKey, boundPort, type ReceiverTransport, type TransportEvents } from './transport';

/**
 * RTP over TCP (RFC 4571, GB/T 28181-2016 Annex L; `$` interleaved accepted too).
 * Passive: we listen and take the first device that connects; a later connection is refused
 * while one is active, accepted once it is gone (devices reconnect, GB/T 28181-2022 Annex D).
 * Active: we connect to the device's address, retrying a few times.
 */

export interface TcpTransportOptions {
  host: string;
  expectedSsrc?: number;
  maxPacketSize?: number;
}

abstract class TcpTransportBase implements ReceiverTransport {
  readonly counters: Record<string, number> = { connections: 0, refusedConnections: 0, garbageBytes: 0, resyncs: 0 };
  protected socket: net.Socket | undefined;
  protected decoder!: Rfc4571Decoder;
  protected closed = false;
  /** Framing counters of the decoders of earlier connections. */
  private earlier = { garbageBytes: 0, resyncs: 0 };

  constructor(
    protected readonly options: TcpTransportOptions,
    protected readonly events: TransportEvents,
  ) {
    this.decoder = this.newDecoder();
  }

  abstract open(port: number): Promise<number>;

  setExpectedSsrc(ssrc: number | undefined): void {
    this.decoder.setExpectedSsrc(ssrc);
  }

  sendRtcp(): boolean {
    // GB28181 senders do not read RTCP on the media connection; SRS drops it too.
    return false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.destroy();
    this.socket = undefined;
    this.closeExtra();
  }

  protected abstract closeExtra(): void;

  protected newDecoder(): Rfc4571Decoder {
    if (this.decoder) {
      this.earlier.garbageBytes += this.decoder.stats.garbageBytes;
      this.earlier.resyncs += this.decoder.stats.resyncs;
    }
    const decoder = new Rfc4571Decoder({
      ...(this.options.expectedSsrc !== undefined ? { expectedSsrc: this.options.expectedSsrc } : {}),
      ...(this.options.maxPacketSize !== undefined ? { maxPacketSize: this.options.maxPacketSize } : {}),
    });
    return decoder;
  }

  /** Wires a connected socket: framing, packets, close. */
  protected attach(socket: net.Socket, from: string, onGone: (reason: string) => void): void {
    this.socket = socket;
    this.counters.connections!++;
    socket.setNoDelay(true);
    const decoder = this.decoder;
    socket.on('data', (chunk: Buffer) => {
      if (this.closed || this.socket !== socket) return;
      for (const p of decoder.feed(chunk)) this.events.packet(p.data, from, p.channel !== undefined && p.channel % 2 === 1);
      this.counters.garbageBytes = this.earlier.garbageBytes + decoder.stats.garbageBytes;
      this.counters.resyncs = this.earlier.resyncs + decoder.stats.resyncs;
    });
    socket.on('error', () => undefined);
    socket.on('close', (hadError) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (!this.closed) onGone(hadError ? 'connection error' : 'connection closed');
    });
    this.events.connected?.(from);
  }
}

export class TcpPassiveTransport extends TcpTransportBase {
  private server: net.Server | undefined;

  async open(port: number): Promise<number> {
    const server = net.createServer((socket) => this.onConnection(socket));
    server.maxConnections = 8;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      server.close();
      throw err;
    });
    server.on('error', (err) => {
      if (!this.closed) this.events.failed(`TCP server error: ${err.message}`);
    });
    this.server = server;
    if (this.closed) {
      server.close();
      throw new Error('closed while opening');
    }
    return boundPort(server.address());
  }

  protected closeExtra(): void {
    this.server?.close();
    this.server = undefined;
  }

  private onConnection(socket: net.Socket): void {
    const from = addressKey(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    if (this.closed || this.socket) {
      this.counters.refusedConnections!++;
      socket.destroy();
      return;
    }
    // a reconnecting device starts a fresh byte stream
    this.decoder = this.newDecoder();
    this.attach(socket, from, (reason) => this.events.disconnected?.(from, reason));
  }
}

export interface TcpActiveOptions extends TcpTransportOptions {
  peerHost: string;
  peerPort: number;
  connectTimeoutMs?: number;
  /** Connection attempts before giving up (GB/T 28181-2022: at least 3, 1 s apart). */
  attempts?: number;
  retryDelayMs?: number;
}

export class TcpActiveTransport extends TcpTransportBase {
  private timer: NodeJS.Timeout | undefined;
  /** The socket of a connection attempt not established yet. */
  private connecting: net.Socket | undefined;
  private attempt = 0;
  private everConnected = false;

  constructor(
    private readonly active: TcpActiveOptions,
    events: TransportEvents,
  ) {
    super(active, events);
  }

  /** Starts connecting; resolves with the reserved port at once (the local port is ephemeral). */
  async open(port: number): Promise<number> {
    this.connect();
    return port;
  }

  protected closeExtra(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.connecting?.destroy();
    this.connecting = undefined;
  }

  private connect(): void {
    if (this.closed) return;
    this.attempt++;
    const socket = net.connect({ host: this.active.peerHost, port: this.active.peerPort });
    this.connecting = socket;
    const from = addressKey(this.active.peerHost, this.active.peerPort);
    socket.setTimeout(this.active.connectTimeoutMs ?? 5000);
    const onFail = (reason: string): void => {
      socket.destroy();
      if (this.connecting === socket) this.connecting = undefined;
      if (this.closed) return;
      this.retry(`connect to ${from} failed: ${reason}`);
    };
    socket.once('timeout', () => onFail('timeout'));
    socket.once('error', (err) => onFail(err.message));
    socket.once('connect', () => {
      if (this.connecting === socket) this.connecting = undefined;
      if (this.closed) {
        socket.destroy();
        return;
      }
      socket.removeAllListeners('timeout');
      socket.removeAllListeners('error');
      socket.setTimeout(0);
      this.attempt = 0;
      this.everConnected = true;
      this.decoder = this.newDecoder();
      this.attach(socket, from, (reason) => {
        this.events.disconnected?.(from, reason);
        this.retry(reason);
      });
    });
  }

  private retry(reason: string): void {
    if (this.closed) return;
    if (this.attempt >= (this.active.attempts ?? 3)) {
      this.events.failed(this.everConnected ? `${reason}; reconnecting failed` : reason);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, this.active.retryDelayMs ?? 1000);
  }
}
