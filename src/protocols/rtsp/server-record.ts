import type { Logger } from 'pino';
import type { Registry } from '../../hub/registry';
import type { Publisher } from '../../core/source';
import { ParseError } from '../../core/errors';
import { parseSdp } from '../../formats/sdp/sdp';
import { MediaPoller } from './media-poll';
import { RtspMediaReceiver } from './media';
import { describeSelection, selectTracks, type TrackSpec } from './sdp-tracks';
import { closeLink, type TrackLink } from './server-transport';
import type { UdpPortAllocator } from './udp';
import { controlBeforeQuery } from './url';

/** A UDP gap is waited for this long before the packet counts as lost (as the pull's default). */
const UDP_REORDER_DELAY_MS = 200;
const TICK_MS = 1000;

export interface RecordHost {
  readonly registry: Registry;
  readonly log: Logger;
  readonly remote: string;
  readonly udpPorts: UdpPortAllocator;
  /** The hub closed the publisher (API kick, another source took over): end the connection. */
  readonly onKicked: (reason: string) => void;
}

/** The path part of an RTSP URL, without query or trailing slash (`/live/cam/streamid=0`). */
export function uriPath(uri: string): string {
  const plain = controlBeforeQuery(uri);
  const m = /^rtsps?:\/\/[^/?#]*([^?#]*)/i.exec(plain);
  return (m ? m[1]! : plain.split('?')[0]!).replace(/\/+$/, '');
}

/**
 * The publish half of an RTSP session: the tracks ANNOUNCE described (the one SDP parser and
 * the client's track selection), the transport each was set up on, and from RECORD on a hub
 * publisher fed through the client's depacketizers (RtspMediaReceiver: reorder for UDP, RTCP
 * clock alignment, FrameAssembler). Spec: RFC 2326 §10.3 (ANNOUNCE), §10.11 (RECORD).
 */
export class RtspRecord {
  readonly tracks: readonly TrackSpec[];
  private readonly links = new Map<number, TrackLink>();
  /** Interleaved channel -> the track and packet kind it carries. */
  private readonly routes = new Map<number, { track: number; kind: 'rtp' | 'rtcp' }>();
  private publisher: Publisher | undefined;
  private media: RtspMediaReceiver | undefined;
  private poller: MediaPoller | undefined;
  private tick: NodeJS.Timeout | undefined;
  private bytesReported = 0;
  private closed = false;

  constructor(
    private readonly host: RecordHost,
    readonly path: string,
    sdp: Buffer,
    base: string,
  ) {
    const selection = selectTracks(parseSdp(sdp.toString('utf8')), base);
    if (selection.tracks.length === 0) throw new ParseError(`the announced SDP has no track the gateway carries (${describeSelection(selection) || 'no media'})`);
    this.tracks = selection.tracks;
    host.log.info({ path, tracks: describeSelection(selection) }, 'rtsp publish announced');
  }

  /** The track a SETUP URL names (its control, resolved against the ANNOUNCE URL), or the only one. */
  trackOf(uri: string): number | undefined {
    const wanted = uriPath(uri);
    const index = this.tracks.findIndex((t) => uriPath(t.control) === wanted);
    if (index >= 0) return index;
    return this.tracks.length === 1 ? 0 : undefined;
  }

  setLink(track: number, link: TrackLink): void {
    const old = this.links.get(track);
    if (old) this.dropLink(old);
    this.links.set(track, link);
    if (link.kind === 'tcp') {
      this.routes.set(link.rtp, { track, kind: 'rtp' });
      this.routes.set(link.rtcp, { track, kind: 'rtcp' });
    }
  }

  get linkCount(): number {
    return this.links.size;
  }

  get udp(): boolean {
    return [...this.links.values()].some((l) => l.kind === 'udp');
  }

  usedChannels(): Set<number> {
    return new Set(this.routes.keys());
  }

  /** RECORD: the path is published and packets flow into the hub from now on. Throws STREAM_BUSY. */
  start(): void {
    if (this.publisher) return;
    this.publisher = this.host.registry.publish(this.path, { kind: 'rtsp', remote: this.host.remote, close: (reason) => this.host.onKicked(reason) });
    this.media = new RtspMediaReceiver({ tracks: this.tracks, publisher: this.publisher, reorderDelayMs: this.udp ? UDP_REORDER_DELAY_MS : 0, log: this.host.log });
    this.poller = new MediaPoller(this.media);
    this.tick = setInterval(() => this.reportBytes(), TICK_MS);
    this.tick.unref?.();
    this.host.log.info({ path: this.path, transport: this.udp ? 'udp' : 'tcp' }, 'rtsp publishing');
  }

  /** A `$` frame of the control connection. */
  onInterleaved(channel: number, data: Buffer): void {
    const route = this.routes.get(channel);
    if (route) this.onPacket(route.track, route.kind, data);
  }

  /** A packet of a track, from its interleaved channel or its UDP socket. */
  onPacket(track: number, kind: 'rtp' | 'rtcp', data: Buffer): void {
    if (!this.media || this.closed) return;
    this.media.onPacket(track, kind, data);
    this.poller?.schedule();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.poller?.stop();
    clearInterval(this.tick);
    this.reportBytes();
    this.publisher?.end(reason);
    for (const link of this.links.values()) this.dropLink(link);
    this.links.clear();
  }

  private dropLink(link: TrackLink): void {
    if (link.kind === 'tcp') {
      this.routes.delete(link.rtp);
      this.routes.delete(link.rtcp);
    }
    closeLink(link, this.host.udpPorts);
  }

  private reportBytes(): void {
    const bytes = this.media?.bytes ?? 0;
    this.publisher?.addBytesIn(bytes - this.bytesReported);
    this.bytesReported = bytes;
  }
}
