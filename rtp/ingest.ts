import { ParseError } from '../src/core/errors';
import type { AccessUnit, AccessUnitSink } from './access-unit';
import type { RtpMap } from '../src/formats/sdp/sdp';
import { createRtpTrack, staticRtpMap, type RtpEsTrack } from './depacketize/track';
import { EsAssembler, type EsAssemblerOptions } from './es/es-assembler';
import { FrameAssembler, type FrameAssemblerOptions, type FramePublisher } from './frame-assembler';
import type { RtpPacket } from './packet';
import { PsDemuxer } from './ps/ps-demuxer';
import { ReorderBuffer, type ReorderOptions, type ReorderedPacket } from './reorder-buffer';
import { TsDemuxer, looksLikeTs } from '../src/formats/mpegts/demuxer';

/**
 * The pure half of an RTP receiver: packets (already parsed and SSRC-checked) go through the
 * reorder buffer, then to the PS or TS demuxer (detected from the first payload, as ZLMediaKit
 * does: TS when the payload is whole 188-byte packets opening with 0x47) or, for payload types
 * mapped to an elementary stream (GB28181 PT 98/99, static G.711 PT 0/8, RTSP), to a
 * depacketizer; the access units become hub Frames on the publisher. No sockets, no timers:
 * the caller passes `now` and calls `poll` at `nextDeadline()`.
 */

export type Container = 'ps' | 'ts';

export interface RtpIngestOptions {
  /** How the main payload is read. Default 'auto' (TS if it looks like TS, else PS). */
  container?: 'auto' | Container;
  /** Payload types carrying elementary streams. Static PT 0 and 8 are G.711 unless mapped. */
  esPayloadTypes?: Readonly<Record<number, RtpMap>>;
  /** Treat PT 0/8 as G.711 elementary streams. Default true. */
  staticG711?: boolean;
  reorder?: ReorderOptions;
  es?: EsAssemblerOptions;
  frames?: FrameAssemblerOptions;
  /** After a loss, hold video back until the next keyframe (no smeared pictures). Default false. */
  waitForKeyframeAfterLoss?: boolean;
  /** Sees every packet in sequence order (a payload dump for debugging). */
  tap?: (packet: RtpPacket) => void;
}

export interface RtpIngestStats {
  container: Container | 'es' | undefined;
  packets: number;
  payloadBytes: number;
  lost: number;
  reordered: number;
  duplicates: number;
  late: number;
  /** Sequence restarts (sender restarted or jumped). */
  restarts: number;
  /** PS or TS demuxer parse errors. */
  parseErrors: number;
  /** Depacketizer errors (elementary-stream payloads). */
  payloadErrors: number;
  droppedAccessUnits: number;
  videoFrames: number;
  audioFrames: number;
  /** Video dropped before the track was ready / before the first keyframe. */
  droppedBeforeKeyframe: number;
  mislabelledAudio: boolean;
  unsupportedAudio: boolean;
}

export class RtpIngest {
  private readonly reorder: ReorderBuffer;
  private readonly frames: FrameAssembler;
  private readonly es: EsAssembler;
  private readonly sink: AccessUnitSink;
  private container: Container | undefined;
  private ps: PsDemuxer | undefined;
  private ts: TsDemuxer | undefined;
  private readonly esTracks = new Map<number, RtpEsTrack | null>();
  /** Per ES payload type: ticks added to its own RTP clock to land on the ingest's timeline. */
  private readonly esOffsets = new Map<number, number>();
  /** The last access unit out (any source) and when: where a new ES track's clock is anchored. */
  private lastDts: number | undefined;
  private lastDtsAt = 0;
  private now = 0;
  private packets = 0;
  private payloadBytes = 0;
  /** Payload types whose SDP parameters could not be used. */
  private badPayloadTypes = 0;

  constructor(
    publisher: FramePublisher,
    private readonly options: RtpIngestOptions = {},
  ) {
    this.reorder = new ReorderBuffer(options.reorder);
    this.frames = new FrameAssembler(publisher, options.frames);
    this.sink = {
      onDeclared: (declared) => this.frames.onDeclared(declared),
      onAccessUnit: (au) => {
        this.lastDts = au.kind === 'video' ? au.dts : au.pts;
        this.lastDtsAt = this.now;
        this.frames.onAccessUnit(au);
      },
    };
    this.es = new EsAssembler(this.sink, { ...options.es, ...(options.container === 'ts' ? { earlyFlush: false } : {}) });
    if (options.container === 'ps' || options.container === 'ts') this.container = options.container;
  }

  /** Adds a packet that arrived at `now` (monotonic ms). */
  push(packet: RtpPacket, now: number): void {
    this.now = now;
    this.packets++;
    this.payloadBytes += packet.payload.length;
    this.process(this.reorder.push(packet, now));
  }

  /** Releases packets whose gap waited long enough; call at `nextDeadline()`. */
  poll(now: number): void {
    this.now = now;
    this.process(this.reorder.poll(now));
  }

  nextDeadline(): number | undefined {
    return this.reorder.nextDeadline();
  }

  /** End of stream: releases what the reorder buffer holds and the access unit in progress. */
  end(): void {
    this.process(this.reorder.flush());
    this.es.end();
    for (const [pt, track] of this.esTracks) if (track) this.emit(pt, track.flush());
  }

  /** The sender changed (new SSRC accepted): sequence state and partial data are dropped. */
  reset(): void {
    this.reorder.reset();
  }

  get stats(): RtpIngestStats {
    const r = this.reorder.stats;
    const e = this.es.stats;
    const f = this.frames.stats;
    let payloadErrors = 0;
    let droppedEs = 0;
    for (const t of this.esTracks.values()) {
      payloadErrors += t?.stats.errors ?? 0;
      droppedEs += t?.stats.droppedAccessUnits ?? 0;
    }
    return {
      container: this.container ?? (this.esTracks.size > 0 ? 'es' : undefined),
      packets: this.packets,
      payloadBytes: this.payloadBytes,
      lost: r.lost,
      reordered: r.reordered,
      duplicates: r.duplicates,
      late: r.late,
      restarts: r.restarts,
      parseErrors: (this.ps?.stats.errors ?? 0) + (this.ts?.stats.errors ?? 0) + (this.ts?.stats.continuityErrors ?? 0),
      payloadErrors: payloadErrors + this.badPayloadTypes,
      droppedAccessUnits: e.droppedAccessUnits + droppedEs,
      videoFrames: f.videoFrames,
      audioFrames: f.audioFrames,
      droppedBeforeKeyframe: f.droppedBeforeKeyframe,
      mislabelledAudio: e.mislabelledAudio,
      unsupportedAudio: e.unsupportedAudio,
    };
  }

  /** Demuxer statistics, for diagnostics. */
  get demuxerStats(): PsDemuxer['stats'] | TsDemuxer['stats'] | undefined {
    return this.ps?.stats ?? this.ts?.stats;
  }

  private process(items: ReorderedPacket[]): void {
    for (const { packet, discontinuity } of items) {
      this.options.tap?.(packet);
      if (discontinuity && this.options.waitForKeyframeAfterLoss) this.frames.waitForKeyframe();
      const track = this.esTrack(packet.payloadType);
      if (track) {
        this.emit(packet.payloadType, track.push(packet, discontinuity));
        continue;
      }
      this.container ??= looksLikeTs(packet.payload) ? 'ts' : packet.payload.length > 0 ? 'ps' : undefined;
      if (this.container === undefined) continue;
      const demuxer = this.container === 'ps' ? (this.ps ??= new PsDemuxer(this.es)) : (this.ts ??= new TsDemuxer(this.es));
      if (discontinuity) demuxer.discontinuity();
      this.es.beginPacket(packet.timestamp);
      demuxer.feed(packet.payload);
      this.es.endPacket(packet.marker);
    }
  }

  private esTrack(payloadType: number): RtpEsTrack | undefined {
    let track = this.esTracks.get(payloadType);
    if (track === undefined) {
      const map = this.options.esPayloadTypes?.[payloadType] ?? (this.options.staticG711 !== false ? staticRtpMap(payloadType) : undefined);
      track = null;
      try {
        if (map) track = createRtpTrack(map);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        this.badPayloadTypes++;
      }
      this.esTracks.set(payloadType, track);
    }
    return track ?? undefined;
  }

  /**
   * Every RTP stream starts its clock at a random value (RFC 3550 §5.1): the first access unit
   * of an elementary stream is placed at the ingest's current time (the last access unit out,
   * plus the time since it arrived), so several streams share one timeline without RTCP.
   */
  private emit(payloadType: number, aus: AccessUnit[]): void {
    for (const au of aus) {
      let offset = this.esOffsets.get(payloadType);
      if (offset === undefined) {
        const anchor = this.lastDts === undefined ? undefined : this.lastDts + Math.round((this.now - this.lastDtsAt) * 90);
        offset = anchor === undefined ? 0 : anchor - (au.kind === 'video' ? au.dts : au.pts);
        this.esOffsets.set(payloadType, offset);
      }
      if (offset === 0) this.sink.onAccessUnit(au);
      else if (au.kind === 'video') this.sink.onAccessUnit({ ...au, pts: au.pts + offset, dts: au.dts + offset });
      else this.sink.onAccessUnit({ ...au, pts: au.pts + offset });
    }
  }
}
