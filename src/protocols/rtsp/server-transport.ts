import type net from 'node:net';
import type { TransportSpec } from './headers';
import { UdpTrackChannel, type UdpPortAllocator } from './udp';

/**
 * The transport a track was set up on by the RTSP server: two interleaved channels of the
 * control connection, or a UDP socket pair from the shared RTP port pool wired to the client's
 * client_port pair. Multicast stays unsupported (461). Spec: RFC 2326 §12.39, §10.12.
 */
export type TrackLink = { readonly kind: 'tcp'; readonly rtp: number; readonly rtcp: number } | { readonly kind: 'udp'; readonly channel: UdpTrackChannel };

export interface LinkContext {
  /** The RTSP connection's local address: the UDP sockets bind there. */
  readonly localAddress: string;
  /** The client's address: the only one media is sent to or taken from (never a `destination=`). */
  readonly remoteAddress: string;
  readonly udpPorts: UdpPortAllocator;
  /** Interleaved channels already taken on this connection. */
  readonly usedChannels: ReadonlySet<number>;
  readonly onRtp: (data: Buffer) => void;
  readonly onRtcp: (data: Buffer) => void;
}

export interface Negotiated {
  readonly link: TrackLink;
  /** The Transport header of the SETUP answer. */
  readonly answer: string;
  readonly mode: 'play' | 'record';
}

export function plainAddress(address: string | undefined): string {
  return (address ?? '0.0.0.0').replace(/^::ffff:/, '');
}

/** The first offer the server can serve, its sockets set up; undefined: answer 461. */
export async function negotiate(offers: readonly TransportSpec[], ctx: LinkContext, ssrc: number): Promise<Negotiated | undefined> {
  const ssrcHex = ssrc.toString(16).padStart(8, '0');
  for (const offer of offers) {
    if (!offer.unicast) continue;
    const mode = offer.mode ?? 'play';
    const modeText = mode === 'record' ? ';mode=record' : '';
    if (offer.protocol === 'tcp') {
      const [rtp, rtcp] = offer.interleaved ?? freeChannels(ctx.usedChannels);
      if (ctx.usedChannels.has(rtp) || ctx.usedChannels.has(rtcp)) continue;
      return { link: { kind: 'tcp', rtp, rtcp }, answer: `RTP/AVP/TCP;unicast;interleaved=${rtp}-${rtcp};ssrc=${ssrcHex}${modeText}`, mode };
    }
    if (!offer.clientPort || offer.clientPort[0] === 0) continue;
    const pair = await ctx.udpPorts.bindPair(ctx.localAddress);
    const channel = new UdpTrackChannel({ pair, remoteAddress: ctx.remoteAddress, onRtp: ctx.onRtp, onRtcp: ctx.onRtcp });
    channel.connect(offer.clientPort);
    const [a, b] = offer.clientPort;
    return {
      link: { kind: 'udp', channel },
      answer: `RTP/AVP;unicast;client_port=${a}-${b};server_port=${pair.rtpPort}-${pair.rtpPort + 1};ssrc=${ssrcHex}${modeText}`,
      mode,
    };
  }
  return undefined;
}

function freeChannels(used: ReadonlySet<number>): [number, number] {
  let channel = 0;
  while (used.has(channel) || used.has(channel + 1)) channel += 2;
  return [channel, channel + 1];
}

/** Gives a link's UDP ports back to the pool (nothing for interleaved channels). */
export function closeLink(link: TrackLink, udpPorts: UdpPortAllocator): void {
  if (link.kind === 'udp') link.channel.close(udpPorts);
}

const DOLLAR = 0x24;

/** Bytes a link puts before an RTP header: the interleaved frame's `$`, channel and length over TCP. Spec: RFC 2326 §10.12 */
export function framingBytes(link: TrackLink): number {
  return link.kind === 'tcp' ? 4 : 0;
}

/**
 * Sends one RTP packet as its `head` (`framingBytes(link)` bytes, filled here, then the 12-byte
 * RTP header) and its payload, shared with other viewers and never copied. The caller corks the
 * socket around a frame's packets, so a frame is one writev.
 */
export function sendRtpOnLink(link: TrackLink, socket: net.Socket, head: Buffer, payload: Buffer): number {
  if (link.kind === 'udp') {
    link.channel.sendRtp([head, payload]);
    return head.length + payload.length;
  }
  head[0] = DOLLAR;
  head[1] = link.rtp & 0xff;
  head.writeUInt16BE(head.length - 4 + payload.length, 2);
  socket.write(head);
  socket.write(payload);
  return head.length + payload.length;
}

/** Sends one RTCP packet on a link (interleaved: a 4-byte head and the packet). */
export function sendRtcpOnLink(link: TrackLink, socket: net.Socket, packet: Buffer): number {
  if (link.kind === 'udp') {
    link.channel.sendRtcp(packet);
    return packet.length;
  }
  socket.write(Buffer.from([DOLLAR, link.rtcp & 0xff, packet.length >> 8, packet.length & 0xff]));
  socket.write(packet);
  return packet.length + 4;
}
