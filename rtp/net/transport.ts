import type { AddressInfo } from 'node:net';

/** What a receiver transport reports: datagrams/framed packets and who sent them. */
export interface TransportEvents {
  /** One RTP or RTCP packet. `rtcpPort`: it came on the RTCP socket (UDP port + 1). */
  packet(data: Buffer, from: string, rtcpPort: boolean): void;
  /** A TCP peer connected (or reconnected). */
  connected?(from: string): void;
  /** A TCP peer left; the receiver keeps waiting until its no-data timeout. */
  disconnected?(from: string, reason: string): void;
  /** An unrecoverable transport failure: the receiver closes with this reason. */
  failed(reason: string): void;
}

export interface ReceiverTransport {
  /** Binds/listens on `port` (0: any); resolves with the bound port. */
  open(port: number): Promise<number>;
  /** Sends RTCP towards the peer, when the transport can. */
  sendRtcp(data: Buffer, peer: string | undefined, learnedRtcp: string | undefined): boolean;
  /** Releases every socket and timer. Idempotent. */
  close(): void;
  /** Transport counters for the stats. */
  readonly counters: Record<string, number>;
}

export function addressKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function splitAddressKey(key: string): { address: string; port: number } {
  const at = key.lastIndexOf(':');
  return { address: key.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(key.slice(at + 1)) };
}

export function boundPort(address: AddressInfo | string | null): number {
  return typeof address === 'object' && address !== null ? address.port : 0;
}
