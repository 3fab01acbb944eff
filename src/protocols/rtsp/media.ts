import { randomBytes } from 'node:crypto';
import { ParseError } from '../../core/errors';
import type { AudioCodec, VideoCodec } from '../../core/codec';
import { RateLimitedLog, type Logger } from '../../core/log';
import type { AccessUnit } from '../../../rtp/access-unit';
import { createRtpTrack, type RtpEsTrack } from '../../../rtp/depacketize/track';
import { FrameAssembler, type FramePublisher } from '../../../rtp/frame-assembler';
import { parseRtpPacket, type RtpPacket } from '../../../rtp/packet';
import { ReceptionStats, buildReceiverReport, isRtcpPacket, ntpToUnixMs, parseRtcp } from '../../../rtp/rtcp';
import { ReorderBuffer } from '../../../rtp/reorder-buffer';
import { SequenceExtender } from '../../../rtp/seq';
import { ClockAligner } from './clock-align';
import type { TrackSpec } from './sdp-tracks';

/**
 * The media half of an RTSP session: per track, RTP parsed, put back in order (UDP), turned
 * into access units by the rtp/ depacketizers, aligned across tracks by RTCP sender reports,
 * and written to the hub through a FrameAssembler (Tracks from SDP or in-band parameter sets,
 * timestamps rebased on the publisher's resumeDts). No sockets, no timers: the caller feeds
 * packets, calls `poll` at `nextDeadline()` and sends the receiver reports it asks for.
 */

export interface RtspMediaOptions {
  readonly tracks: readonly TrackSpec[];
  readonly publisher: FramePublisher;
  /** How long a UDP gap is waited for; 0 for TCP (in order by construction). */
  readonly reorderDelayMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface RtspTrackStats {
  readonly codec: string;
  packets: number;
  bytes: number;
  lost: number;
  reordered: number;
  duplicates: number;
  accessUnits: number;
  droppedAccessUnits: number;
  /** Packets that were not RTP, or whose payload the depacketizer refused. */
  errors: number;
  /** Packets of another payload type than the SDP's. */
  foreignPayloadType: number;
  ssrcChanges: number;
  senderReports: number;
}

interface TrackPipeline {
  readonly spec: TrackSpec;
  readonly reorder: ReorderBuffer;
  es: RtpEsTrack;
  reception: ReceptionStats;
  readonly seq: SequenceExtender;
  ssrc: number | undefined;
  readonly stats: RtspTrackStats;
}

export class RtspMediaReceiver {
  readonly frames: FrameAssembler;
  private readonly pipelines: TrackPipeline[];
  private readonly aligner: ClockAligner;
  private readonly now: () => number;
  private readonly ownSsrc = randomBytes(4).readUInt32BE(0);
  private readonly badPackets: RateLimitedLog;
  /** Monotonic ms of the last RTP packet of any track (the stall watchdog reads it). */
  lastPacketAt: number | undefined;
  bytes = 0;

  constructor(private readonly options: RtspMediaOptions) {
    this.now = options.now ?? (() => performance.now());
    this.frames = new FrameAssembler(options.publisher, { now: this.now });
    this.aligner = new ClockAligner(options.tracks.map((t) => t.clockRate));
    this.badPackets = new RateLimitedLog(options.log.debug.bind(options.log), 'RTSP packets dropped');
    this.pipelines = options.tracks.map((spec) => ({
      spec,
      reorder: new ReorderBuffer({ maxDelayMs: options.reorderDelayMs }),
      es: createRtpTrack(spec.rtpMap),
      reception: new ReceptionStats(spec.clockRate),
      seq: new SequenceExtender(),
      ssrc: undefined,
      stats: {
        codec: spec.codec,
        packets: 0,
        bytes: 0,
        lost: 0,
        reordered: 0,
        duplicates: 0,
        accessUnits: 0,
        droppedAccessUnits: 0,
        errors: 0,
        foreignPayloadType: 0,
        ssrcChanges: 0,
        senderReports: 0,
      },
    }));
    const video = options.tracks.find((t) => t.kind === 'video')?.codec as VideoCodec | undefined;
    const audio = options.tracks.find((t) => t.kind === 'audio')?.codec as AudioCodec | undefined;
    this.frames.onDeclared({ ...(video ? { video } : {}), ...(audio ? { audio } : {}) });
  }

  get trackStats(): readonly RtspTrackStats[] {
    return this.pipelines.map((p) => ({ ...p.stats, lost: p.reorder.stats.lost, reordered: p.reorder.stats.reordered, duplicates: p.reorder.stats.duplicates }));
  }

  get alignStats(): ClockAligner['stats'] {
    return this.aligner.stats;
  }

  /**
   * One packet from the session. The reorder buffer may keep `data` (a view into a socket
   * chunk) while it waits for a gap to fill.
   */
  onPacket(track: number, kind: 'rtp' | 'rtcp', data: Buffer): void {
    const pipeline = this.pipelines[track];
    if (!pipeline) return;
    if (kind === 'rtcp' || isRtcpPacket(data)) {
      this.onRtcp(track, pipeline, data);
      return;
    }
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(data);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      pipeline.stats.errors++;
      this.badPackets.hit({ track, err: err.message });
      return;
    }
    const now = this.now();
    this.lastPacketAt = now;
    this.bytes += data.length;
    if (packet.payloadType !== pipeline.spec.payloadType) {
      pipeline.stats.foreignPayloadType++;
      return;
    }
    if (pipeline.ssrc !== packet.ssrc) this.onSsrc(track, pipeline, packet.ssrc);
    pipeline.stats.packets++;
    pipeline.stats.bytes += data.length;
    pipeline.reception.onPacket(pipeline.seq.extend(packet.sequence), packet.timestamp, now);
    this.release(track, pipeline, pipeline.reorder.push(packet, now));
  }

  /** When `poll` should run next (monotonic ms), if a gap is waited for. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const p of this.pipelines) {
      const d = p.reorder.nextDeadline();
      if (d !== undefined && (next === undefined || d < next)) next = d;
    }
    return next;
  }

  poll(now = this.now()): void {
    this.pipelines.forEach((p, track) => this.release(track, p, p.reorder.poll(now)));
  }

  /** Receiver reports to send, one per track that has received something. Spec: RFC 3550 §6.4.2. */
  receiverReports(now = this.now()): { track: number; packet: Buffer }[] {
    const out: { track: number; packet: Buffer }[] = [];
    this.pipelines.forEach((p, track) => {
      if (p.ssrc === undefined) return;
      const block = p.reception.reportBlock(p.ssrc, now);
      out.push({ track, packet: buildReceiverReport(this.ownSsrc, block ? [block] : []) });
    });
    return out;
  }

  private release(track: number, pipeline: TrackPipeline, packets: ReturnType<ReorderBuffer['push']>): void {
    for (const { packet, discontinuity } of packets) {
      this.aligner.notePacket(track, packet.timestamp);
      const units = pipeline.es.push(packet, discontinuity);
      for (const au of units) this.deliver(track, au);
    }
    pipeline.stats.accessUnits = pipeline.es.stats.accessUnits;
    pipeline.stats.droppedAccessUnits = pipeline.es.stats.droppedAccessUnits;
    pipeline.stats.errors = pipeline.es.stats.errors;
  }

  private deliver(track: number, au: AccessUnit): void {
    const arrival = this.now();
    const pts = this.aligner.align(track, au.pts, arrival);
    if (au.kind === 'video') {
      const dts = pts - (au.pts - au.dts);
      this.frames.onAccessUnit({ ...au, pts, dts });
    } else {
      this.frames.onAccessUnit({ ...au, pts });
    }
  }

  private onSsrc(track: number, pipeline: TrackPipeline, ssrc: number): void {
    if (pipeline.ssrc !== undefined) {
      // The camera restarted its stream: new sequence and clock. Start the track over.
      pipeline.stats.ssrcChanges++;
      pipeline.reorder.reset();
      pipeline.es = createRtpTrack(pipeline.spec.rtpMap);
      pipeline.reception = new ReceptionStats(pipeline.spec.clockRate);
      pipeline.seq.reset();
      this.aligner.resetTrack(track);
      this.options.log.info({ track, ssrc }, 'RTSP track changed SSRC: restarted');
    }
    pipeline.ssrc = ssrc;
  }

  private onRtcp(track: number, pipeline: TrackPipeline, data: Buffer): void {
    let packets;
    try {
      packets = parseRtcp(data);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.badPackets.hit({ track, err: err.message });
      return;
    }
    for (const p of packets) {
      if (p.type !== 'sr' || (pipeline.ssrc !== undefined && p.ssrc !== pipeline.ssrc)) continue;
      pipeline.stats.senderReports++;
      pipeline.reception.onSenderReport(p, this.now());
      this.aligner.onSenderReport(track, ntpToUnixMs(p.ntpSeconds, p.ntpFraction), p.rtpTimestamp);
    }
  }
}
