import { createSocket, type Socket } from 'node:dgram';
import type { PortPool } from '../../../rtp/net/port-pool';
import { RtspError } from '../../protocols/rtsp/errors';
import { osPortAllocator, type UdpPair, type UdpPortAllocator } from '../../protocols/rtsp/udp';

/**
 * RTSP client UDP ports from the gateway's one RTP port pool (`rtp.portMin`..`rtp.portMax`),
 * shared with the GB28181 and API receivers: even RTP port, odd RTCP port. A port some other
 * process holds is skipped (the pool only knows our own allocations). Without a range the OS
 * picks (osPortAllocator).
 */
export function rtspUdpPorts(pool: PortPool | undefined): UdpPortAllocator {
  return pool ? poolAllocator(pool) : osPortAllocator;
}

function bind(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

export function poolAllocator(pool: PortPool): UdpPortAllocator {
  return {
    async bindPair(host: string): Promise<UdpPair> {
      for (let attempt = 0; attempt < pool.size; attempt++) {
        const port = pool.allocate();
        if (port === undefined) break;
        try {
          const rtp = await bind(host, port);
          try {
            return { rtp, rtcp: await bind(host, port + 1), rtpPort: port };
          } catch {
            rtp.close();
          }
        } catch {
          // taken by another process: try the next pair
        }
        pool.release(port);
      }
      throw new RtspError('transport', `no free UDP port pair in the RTP port range (${pool.inUse} of ${pool.size} in use)`);
    },
    release(pair: UdpPair): void {
      pool.release(pair.rtpPort);
    },
  };
}
