import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { RtspError } from './errors';

/**
 * Client-side UDP for RTSP: an even RTP port and the next odd one for RTCP per track.
 * Spec: RFC 3550 §11 (RTP on an even port, RTCP on the next), RFC 2326 §12.39 (client_port).
 */

export interface UdpPair {
  readonly rtp: Socket;
  readonly rtcp: Socket;
  readonly rtpPort: number;
}

/**
 * Where the pair comes from. The default binds OS-chosen ports; the app may inject a pool
 * (the RTP receivers' port range) instead.
 */
export interface UdpPortAllocator {
  bindPair(host: string): Promise<UdpPair>;
  /** Gives the pair's ports back (after the sockets were closed). */
  release?(pair: UdpPair): void;
}

const BIND_ATTEMPTS = 20;
/** A larger kernel buffer rides out bursts (an I-frame arrives as hundreds of packets). */
const RECEIVE_BUFFER_BYTES = 2 * 1024 * 1024;

function bind(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      try {
        socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
      } catch {
        // the kernel cap (net.core.rmem_max) is lower: keep its default
      }
      resolve(socket);
    });
  });
}

/** Binds an OS-chosen even port and the odd one after it, retrying when the odd one is taken. */
export const osPortAllocator: UdpPortAllocator = {
  async bindPair(host: string): Promise<UdpPair> {
    for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      const rtp = await bind(host, 0);
      const port = rtp.address().port;
      if (port % 2 !== 0 || port === 65535) {
        rtp.close();
        continue;
      }
      try {
        const rtcp = await bind(host, port + 1);
        return { rtp, rtcp, rtpPort: port };
      } catch {
        rtp.close();
      }
    }
    throw new RtspError('transport', `no free UDP port pair on ${host} after ${BIND_ATTEMPTS} attempts`);
  },
};

export interface UdpTrackChannelOptions {
  readonly pair: UdpPair;
  /** Only packets from this address are taken (the server's, or the Transport `source=`). */
  readonly remoteAddress: string;
  readonly onRtp: (data: Buffer) => void;
  readonly onRtcp: (data: Buffer) => void;
  /** Packets from anyone else, counted. */
  readonly onForeign?: (from: RemoteInfo) => void;
}

/**
 * One track's UDP sockets, wired to the peer's ports after SETUP: the client's pull wires them
 * to the camera's server_port, the RTSP server to its viewer's or publisher's client_port
 * (`serverPorts` is then the client's pair: the far end either way).
 */
export class UdpTrackChannel {
  private serverRtcpPort: number | undefined;
  private serverRtpPort: number | undefined;
  private closed = false;

  constructor(private readonly options: UdpTrackChannelOptions) {
    const { pair } = options;
    pair.rtp.on('message', (data, from) => this.accept(data, from, options.onRtp));
    pair.rtcp.on('message', (data, from) => this.accept(data, from, options.onRtcp));
    // Errors on a connected-less UDP socket are ICMP noise (port unreachable): ignore them.
    pair.rtp.on('error', () => undefined);
    pair.rtcp.on('error', () => undefined);
  }

  get clientPorts(): readonly [number, number] {
    return [this.options.pair.rtpPort, this.options.pair.rtpPort + 1];
  }

  /** The far end's ports from SETUP; with `punch`, opens NAT bindings towards them. */
  connect(serverPorts: readonly [number, number] | undefined, punch?: Buffer): void {
    // A server that answers port 0 (or none) gets no RTCP from us; its media still comes.
    if (!serverPorts || serverPorts[0] === 0 || serverPorts[1] === 0) return;
    this.serverRtpPort = serverPorts[0];
    this.serverRtcpPort = serverPorts[1];
    if (punch) this.sendRtcp(punch);
  }

  /** RTP to the far end (the RTSP server's media to a viewer): one datagram, gathered from its parts. */
  sendRtp(packet: Buffer | readonly Buffer[]): void {
    if (this.closed || this.serverRtpPort === undefined) return;
    try {
      this.options.pair.rtp.send(packet, this.serverRtpPort, this.options.remoteAddress);
    } catch {
      // a bad remote address: nothing to send to
    }
  }

  /** Bytes handed to send() that the kernel has not taken yet: a slow UDP viewer's backlog. */
  pendingBytes(): number {
    if (this.closed) return 0;
    return this.options.pair.rtp.getSendQueueSize() + this.options.pair.rtcp.getSendQueueSize();
  }

  sendRtcp(packet: Buffer): void {
    if (this.closed || this.serverRtcpPort === undefined) return;
    try {
      this.options.pair.rtcp.send(packet, this.serverRtcpPort, this.options.remoteAddress);
    } catch {
      // a bad remote address: nothing to report to
    }
  }

  get serverPorts(): readonly [number, number] | undefined {
    return this.serverRtpPort === undefined || this.serverRtcpPort === undefined ? undefined : [this.serverRtpPort, this.serverRtcpPort];
  }

  close(allocator: UdpPortAllocator): void {
    if (this.closed) return;
    this.closed = true;
    const { pair } = this.options;
    pair.rtp.close();
    pair.rtcp.close();
    allocator.release?.(pair);
  }

  private accept(data: Buffer, from: RemoteInfo, deliver: (data: Buffer) => void): void {
    if (this.closed) return;
    if (!sameAddress(from.address, this.options.remoteAddress)) {
      this.options.onForeign?.(from);
      return;
    }
    deliver(data);
  }
}

function sameAddress(a: string, b: string): boolean {
  return a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');
}
