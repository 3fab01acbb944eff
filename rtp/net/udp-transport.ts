import dgram from 'node:dgram';
import { addressKey, splitAddressKey, type ReceiverTransport, type TransportEvents } from './transport';

export interface UdpTransportOptions {
  host: string;
  /** SO_RCVBUF to ask for (bytes); the OS may cap it. Default 4 MB (what ZLMediaKit uses). */
  recvBufferSize?: number;
  /** Also bind port + 1 for RTCP. Default true. */
  rtcp?: boolean;
}

/** RTP over UDP on one port (and RTCP on port + 1). */
export class UdpTransport implements ReceiverTransport {
  readonly counters: Record<string, number> = { recvBufferSize: 0 };
  private rtp: dgram.Socket | undefined;
  private rtcp: dgram.Socket | undefined;
  private closed = false;

  constructor(
    private readonly options: UdpTransportOptions,
    private readonly events: TransportEvents,
  ) {}

  async open(port: number): Promise<number> {
    const family = this.options.host.includes(':') ? 'udp6' : 'udp4';
    const rtp = dgram.createSocket({ type: family });
    let bound: number;
    try {
      bound = await bind(rtp, port, this.options.host);
    } catch (err) {
      rtp.close();
      throw err;
    }
    this.rtp = rtp;
    rtp.on('message', (msg, rinfo) => this.events.packet(msg, addressKey(rinfo.address, rinfo.port), false));
    rtp.on('error', (err) => this.fail(`UDP socket error: ${err.message}`));
    this.enlargeBuffer(rtp);
    if (this.options.rtcp !== false && bound !== 0) {
      const rtcp = dgram.createSocket({ type: family });
      rtcp.on('message', (msg, rinfo) => this.events.packet(msg, addressKey(rinfo.address, rinfo.port), true));
      rtcp.on('error', () => undefined);
      try {
        await bind(rtcp, bound + 1, this.options.host);
        this.rtcp = rtcp;
      } catch {
        rtcp.close();
      }
    }
    if (this.closed) {
      this.close();
      throw new Error('closed while opening');
    }
    return bound;
  }

  /**
   * RR go to the RTCP address the sender used, else to its RTP port + 1 from our RTCP socket
   * (the RTP/RTCP port pair of RFC 3550 §11), or back to its RTP port when we have no RTCP socket.
   */
  sendRtcp(data: Buffer, peer: string | undefined, learnedRtcp: string | undefined): boolean {
    if (this.closed || !this.rtp) return false;
    let target = learnedRtcp;
    let socket = this.rtcp ?? this.rtp;
    if (!target && peer) {
      const { address, port } = splitAddressKey(peer);
      target = this.rtcp ? addressKey(address, port + 1) : peer;
      socket = this.rtcp ?? this.rtp;
    }
    if (!target) return false;
    const { address, port } = splitAddressKey(target);
    socket.send(data, port, address, () => undefined);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [this.rtp, this.rtcp]) {
      try {
        s?.close();
      } catch {
        // already closed (error path)
      }
    }
  }

  private enlargeBuffer(socket: dgram.Socket): void {
    try {
      socket.setRecvBufferSize(this.options.recvBufferSize ?? 4 * 1024 * 1024);
      this.counters.recvBufferSize = socket.getRecvBufferSize();
    } catch {
      // not permitted: keep the OS default
    }
  }

  private fail(reason: string): void {
    if (!this.closed) this.events.failed(reason);
  }
}

function bind(socket: dgram.Socket, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve(socket.address().port);
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind(port, host);
  });
}
