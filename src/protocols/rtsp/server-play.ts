import type net from 'node:net';
import type { Logger } from 'pino';
import type { Registry, Subscription } from '../../hub/registry';
import type { Frame } from '../../core/frame';
import type { Track } from '../../core/track';
import type { Sink, StreamInfo } from '../../core/sink';
import { buildSenderReport } from '../../../rtp/rtcp';
import { RTP_HEADER_SIZE } from '../../../rtp/packet';
import { RtpPayloadCache, rtpTimestamp, serveTracks, type ServedTrack } from './server-media';
import { closeLink, framingBytes, sendRtcpOnLink, sendRtpOnLink, type TrackLink } from './server-transport';
import type { UdpPortAllocator } from './udp';

/** Milliseconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_EPOCH_OFFSET_MS = 2_208_988_800_000;
/** Spec: RFC 3550 §6.2: sender reports every 5 s (the minimum interval). */
const REPORT_EVERY_TICKS = 5 * 90000;

export interface PlayHost {
  readonly socket: net.Socket;
  readonly registry: Registry;
  readonly log: Logger;
  readonly remote: string;
  readonly udpPorts: UdpPortAllocator;
  /** The stream ended or the hub dropped this viewer. */
  readonly onEnd: (reason: string) => void;
}

/** A packet to send: RTCP whole, or RTP as this viewer's head (framing + header) and the shared payload. */
type OutPacket = { readonly rtcp: true; readonly packet: Buffer } | { readonly rtcp: false; readonly head: Buffer; readonly payload: Buffer };

type HeldPacket = OutPacket & { readonly link: TrackLink };

/**
 * The play half of an RTSP session: the tracks DESCRIBE offered, the transport each was set
 * up on, and a counted hub subscription whose frames go out as RTP (GOP cache first, held
 * until the PLAY answer is written). Backpressure is the viewer's own backlog (socket
 * `writableLength` plus its UDP send queues), so the hub drops a slow viewer by GOP alone.
 */
export class RtspPlay {
  readonly served: ServedTrack[];
  private readonly links = new Map<number, TrackLink>();
  private subscription: Subscription | undefined;
  private playing = false;
  private held: HeldPacket[] | undefined;
  private payloads: RtpPayloadCache | undefined;
  /** Wall clock of the first frame sent and its pts: the NTP side of every sender report. */
  private clockBase: { epochMs: number; pts: number } | undefined;
  private readonly lastReport = new Map<number, number>();
  private closed = false;
  bytesOut = 0;

  constructor(
    private readonly host: PlayHost,
    readonly path: string,
    tracks: readonly Track[],
  ) {
    this.served = serveTracks(tracks);
  }

  /** The served track a SETUP URL's control names (`trackID=n`), or the only one. */
  trackOf(control: string | undefined): ServedTrack | undefined {
    if (control === undefined) return this.served.length === 1 ? this.served[0] : undefined;
    return this.served.find((s) => s.control === control);
  }

  setLink(trackId: number, link: TrackLink): void {
    const old = this.links.get(trackId);
    if (old) closeLink(old, this.host.udpPorts);
    this.links.set(trackId, link);
  }

  get linkCount(): number {
    return this.links.size;
  }

  usedChannels(): Set<number> {
    const used = new Set<number>();
    for (const link of this.links.values()) if (link.kind === 'tcp') used.add(link.rtp).add(link.rtcp);
    return used;
  }

  /** Subscribes on the first PLAY (the GOP cache is then held for `rtpInfo` and `flush`); resumes after PAUSE. */
  async play(): Promise<void> {
    this.playing = true;
    if (this.subscription) return;
    this.held = [];
    this.subscription = await this.host.registry.subscribe(this.path, this.sink(), {});
  }

  pause(): void {
    this.playing = false;
  }

  /** `url=..;seq=..;rtptime=..` per set-up track, from the first packet held (RFC 2326 §12.33). */
  rtpInfo(base: string): string {
    return this.served
      .filter((s) => this.links.has(s.track.id))
      .map((s) => {
        const link = this.links.get(s.track.id);
        const first = this.held?.find((h) => h.link === link && !h.rtcp);
        const header = first && !first.rtcp ? first.head.subarray(framingBytes(first.link)) : undefined;
        return `url=${base}${s.control}${header ? `;seq=${header.readUInt16BE(2)};rtptime=${header.readUInt32BE(4)}` : ''}`;
      })
      .join(',');
  }

  /** Sends what was held while the PLAY answer was being written. */
  flush(): void {
    const held = this.held;
    this.held = undefined;
    if (!held || this.closed) return;
    const socket = this.host.socket;
    socket.cork();
    for (const h of held) this.send(h.link, h);
    socket.uncork();
  }

  /** Backlog of this viewer alone: what the hub's lag rules look at. */
  pendingBytes(): number {
    let bytes = this.host.socket.writableLength;
    for (const link of this.links.values()) if (link.kind === 'udp') bytes += link.channel.pendingBytes();
    return bytes;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.close(reason);
    for (const link of this.links.values()) closeLink(link, this.host.udpPorts);
    this.links.clear();
  }

  private sink(): Sink {
    return {
      onStart: (info: StreamInfo) => {
        this.payloads = info.feed(RtpPayloadCache.FEED);
      },
      onTracks: () => {},
      onFrame: (frame: Frame) => this.sendFrame(frame),
      onEnd: (reason: string) => {
        if (!this.closed) this.host.onEnd(`stream ended: ${reason}`);
      },
      pendingBytes: () => this.pendingBytes(),
      describe: () => ({ protocol: 'rtsp', remote: this.host.remote, bytesOut: this.bytesOut }),
    };
  }

  private sendFrame(frame: Frame): void {
    if (!this.playing || this.closed || !this.payloads) return;
    const link = this.links.get(frame.trackId);
    const served = this.served.find((s) => s.track.id === frame.trackId);
    if (!link || !served) return;
    const report = this.senderReport(served, frame);
    const packets = this.packets(link, served, frame);
    if (report) packets.unshift({ rtcp: true, packet: report });
    if (this.held) {
      for (const packet of packets) this.held.push({ ...packet, link });
      return;
    }
    const socket = this.host.socket;
    socket.cork();
    for (const packet of packets) this.bytesOut += this.send(link, packet);
    socket.uncork();
  }

  /** The frame's shared payloads, each behind a header of this viewer's own (one slab per frame). */
  private packets(link: TrackLink, served: ServedTrack, frame: Frame): OutPacket[] {
    const payloads = this.payloads!.payloads(served.track, frame);
    const headBytes = framingBytes(link) + RTP_HEADER_SIZE;
    const slab = Buffer.allocUnsafe(payloads.length * headBytes);
    const timestamp = rtpTimestamp(served, frame);
    return payloads.map((p, i) => {
      const head = slab.subarray(i * headBytes, (i + 1) * headBytes);
      served.writer.writeHeader(head, headBytes - RTP_HEADER_SIZE, p, (timestamp + p.offset) >>> 0);
      return { rtcp: false, head, payload: p.payload };
    });
  }

  private send(link: TrackLink, packet: OutPacket): number {
    const socket = this.host.socket;
    return packet.rtcp ? sendRtcpOnLink(link, socket, packet.packet) : sendRtpOnLink(link, socket, packet.head, packet.payload);
  }

  /**
   * An RTCP sender report before a track's first packet and every 5 s of media, so a player
   * syncs audio to video from the start. Spec: RFC 3550 §6.4.1.
   */
  private senderReport(served: ServedTrack, frame: Frame): Buffer | undefined {
    this.clockBase ??= { epochMs: Date.now(), pts: frame.pts };
    const last = this.lastReport.get(frame.trackId);
    if (last !== undefined && frame.pts - last < REPORT_EVERY_TICKS) return undefined;
    this.lastReport.set(frame.trackId, frame.pts);
    const ntpMs = this.clockBase.epochMs + (frame.pts - this.clockBase.pts) / 90 + NTP_EPOCH_OFFSET_MS;
    const seconds = Math.floor(ntpMs / 1000);
    const fraction = Math.floor(((ntpMs % 1000) / 1000) * 0x100000000) >>> 0;
    return buildSenderReport({
      ssrc: served.writer.ssrc,
      ntpSeconds: seconds >>> 0,
      ntpFraction: fraction,
      rtpTimestamp: rtpTimestamp(served, frame),
      packetCount: served.writer.packets,
      octetCount: served.writer.octets >>> 0,
    });
  }
}
