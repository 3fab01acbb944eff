import { buildAdtsHeader } from '../../codecs/aac/adts';
import { H264_NAL } from '../../codecs/h264/nal';
import { H265_NAL } from '../../codecs/h265/nal';
import type { Frame } from '../../core/frame';
import type { Track } from '../../core/track';
import { PID_PAT, PID_PMT, TS_PACKET_SIZE } from './constants';
import { pesHeader, pesPacketCount, writePesPackets } from './pes';
import { layoutProgram, type SkippedTrack, type TsProgramLayout, type TsStream } from './program';
import { writeProgramTables } from './psi';

export interface TsMuxerOptions {
  /**
   * Without video, PAT/PMT (and a random access point) are repeated this often, in 90 kHz
   * ticks, so that audio-only segments and late viewers have somewhere to start. Default 0.5 s.
   */
  readonly audioOnlyPsiIntervalTicks?: number;
}

/** The TS packets of one frame: one Buffer of whole 188-byte packets. */
export interface TsMuxedFrame {
  readonly data: Buffer;
  /**
   * The packets start with PAT and PMT and then a video keyframe (or, without video, an audio
   * frame): a decoder, a new viewer or a new HLS segment can start here.
   */
  readonly randomAccess: boolean;
}

export interface TsProgramChange {
  /** Codecs or decoder configs differ from the previous program (new PMT version). */
  readonly changed: boolean;
  readonly skipped: readonly SkippedTrack[];
}

const START_CODE = Buffer.from([0, 0, 0, 1]);
const H264_AUD = Buffer.from([0x09, 0xf0]); // primary_pic_type 7 (any), rbsp_stop_one_bit
const H265_AUD = Buffer.from([0x46, 0x01, 0x50]); // type 35, TemporalId 0, pic_type 2, stop bit

/**
 * MPEG-TS muxer for one stream: PAT/PMT with CRC, one PES per frame, PCR on the video PID (or
 * the audio PID without video), per-PID continuity counters, adaptation-field stuffing,
 * random_access_indicator on keyframes, AUD + parameter sets before every keyframe and 33-bit
 * PTS/DTS taken from the frame's 90 kHz clock (the TS timeline is the hub timeline).
 * Spec: ISO/IEC 13818-1 §2.4; H.222.0 Amd. 3 for H.265; Apple HLS authoring (AUD per AU).
 *
 * Each frame is copied once into its own Buffer of packets, shared by every consumer.
 */
export class TsMuxer {
  private layout: TsProgramLayout = { streams: [], skipped: [], key: '' };
  private readonly byTrack = new Map<number, TsStream>();
  private readonly continuity = new Map<number, number>();
  private version = 0;
  private hasVideo = false;
  private psiPending = true;
  private lastPsiDts: number | undefined;
  private readonly audioOnlyPsiInterval: number;
  private skippedFramesCount = 0;

  constructor(options: TsMuxerOptions = {}) {
    this.audioOnlyPsiInterval = options.audioOnlyPsiIntervalTicks ?? 45_000;
  }

  /** Frames dropped because their track is not in the program (G.711, second tracks). */
  get skippedFrames(): number {
    return this.skippedFramesCount;
  }

  get streams(): readonly TsStream[] {
    return this.layout.streams;
  }

  /** Declares the tracks; a changed program gets a new PMT version before the next frame. */
  setTracks(tracks: readonly Track[]): TsProgramChange {
    const next = layoutProgram(tracks);
    const changed = next.key !== this.layout.key;
    const first = this.layout.key === '' && this.version === 0 && !this.continuity.size;
    this.layout = next;
    this.byTrack.clear();
    for (const stream of next.streams) this.byTrack.set(stream.trackId, stream);
    this.hasVideo = next.streams.some((s) => s.kind === 'video');
    if (changed) {
      if (!first) this.version = (this.version + 1) & 0x1f;
      this.psiPending = true;
    }
    return { changed, skipped: next.skipped };
  }

  /** Muxes one frame; undefined if its track is not part of the program. */
  frame(frame: Frame): TsMuxedFrame | undefined {
    const stream = this.byTrack.get(frame.trackId);
    if (!stream) {
      this.skippedFramesCount++;
      return undefined;
    }
    const randomAccess = stream.kind === 'video' ? frame.keyframe : !this.hasVideo && this.audioStartPoint(frame.dts);
    const withPsi = randomAccess || this.psiPending;
    const payload = stream.kind === 'video' ? videoPayload(stream, frame) : audioPayload(stream, frame);
    const payloadLength = byteLength(payload);
    const header = pesHeader(stream.streamId, frame.pts, frame.dts, payloadLength, stream.kind === 'audio');
    const parts = [header, ...payload];
    const total = header.length + payloadLength;
    const pcrPid = this.pcrStream()?.pid;
    const options = { pid: stream.pid, continuity: this.continuity.get(stream.pid) ?? 0, randomAccess, pcr: stream.pid === pcrPid ? frame.dts : undefined };
    const psiPackets = withPsi ? 2 : 0;
    const data = Buffer.allocUnsafe((psiPackets + pesPacketCount(total, options)) * TS_PACKET_SIZE);
    if (withPsi) {
      writeProgramTables(data, 0, this.tables(pcrPid ?? stream.pid), this.nextContinuity(PID_PAT), this.nextContinuity(PID_PMT));
      this.psiPending = false;
      this.lastPsiDts = frame.dts;
    }
    this.continuity.set(stream.pid, writePesPackets(data, psiPackets * TS_PACKET_SIZE, parts, total, options));
    return { data, randomAccess };
  }

  private tables(pcrPid: number) {
    return { pmtPid: PID_PMT, pcrPid, version: this.version, streams: this.layout.streams.map((s) => ({ streamType: s.streamType, pid: s.pid })) };
  }

  private pcrStream(): TsStream | undefined {
    return this.layout.streams.find((s) => s.kind === 'video') ?? this.layout.streams[0];
  }

  private audioStartPoint(dts: number): boolean {
    return this.psiPending || this.lastPsiDts === undefined || dts - this.lastPsiDts >= this.audioOnlyPsiInterval || dts < this.lastPsiDts;
  }

  private nextContinuity(pid: number): number {
    const cc = this.continuity.get(pid) ?? 0;
    this.continuity.set(pid, (cc + 1) & 0x0f);
    return cc;
  }
}

/**
 * Annex B access unit: AUD, then (on keyframes, unless the frame carries them in-band) the
 * parameter sets of the track, then the frame's NAL units. In-band AUDs are dropped.
 */
function videoPayload(stream: TsStream, frame: Frame): Buffer[] {
  const h265 = stream.codec === 'h265';
  const typeOf = h265 ? (u: Buffer) => (u[0]! >>> 1) & 0x3f : (u: Buffer) => u[0]! & 0x1f;
  const audType = h265 ? H265_NAL.AUD : H264_NAL.AUD;
  const spsType = h265 ? H265_NAL.SPS : H264_NAL.SPS;
  const parts: Buffer[] = [START_CODE, h265 ? H265_AUD : H264_AUD];
  if (frame.keyframe && !frame.units.some((u) => u.length > 0 && typeOf(u) === spsType)) {
    const track = stream.track;
    const sets = track.codec === 'h265' ? [track.vps, track.sps, track.pps] : track.codec === 'h264' ? [track.sps, track.pps] : [];
    for (const set of sets) if (set && set.length) parts.push(START_CODE, set);
  }
  for (const unit of frame.units) {
    if (unit.length === 0 || typeOf(unit) === audType) continue;
    parts.push(START_CODE, unit);
  }
  return parts;
}

/** ADTS header + raw AAC access unit (one per unit, should a frame carry several). */
function audioPayload(stream: TsStream, frame: Frame): Buffer[] {
  const parts: Buffer[] = [];
  for (const unit of frame.units) {
    if (unit.length === 0) continue;
    parts.push(buildAdtsHeader(stream.adts!, unit.length), unit);
  }
  return parts;
}

function byteLength(parts: readonly Buffer[]): number {
  let n = 0;
  for (const part of parts) n += part.length;
  return n;
}
