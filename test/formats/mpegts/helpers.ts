import { splitAdts } from '../../../src/codecs/aac/adts';
import { aacTrackFromAdts } from '../../../src/codecs/aac/track';
import { splitAnnexB } from '../../../src/codecs/annexb';
import { H264_NAL, findH264Unit, isH264Keyframe } from '../../../src/codecs/h264/nal';
import { h264Track } from '../../../src/codecs/h264/track';
import { H265_NAL, findH265Unit, isH265Keyframe } from '../../../src/codecs/h265/nal';
import { h265Track } from '../../../src/codecs/h265/track';
import type { Frame } from '../../../src/core/frame';
import type { Track } from '../../../src/core/track';
import { STREAM_TYPE, TsDemuxer, TsMuxer, type EsSink, type EsStreamDecl, type PesStart, type TsDemuxerStats } from '../../../src/formats/mpegts';

export interface DemuxedPes {
  pid: number;
  streamType: number;
  pts: number;
  /** DTS, or PTS when the PES carries no DTS. */
  dts: number;
  randomAccess: boolean;
  payload: Buffer;
}

export interface Demuxed {
  /** The streams of the last PMT the demuxer accepted. */
  streams: readonly EsStreamDecl[];
  pes: DemuxedPes[];
  stats: TsDemuxerStats;
}

/** An EsSink that keeps every complete PES (a PES cut by a discontinuity is dropped). */
export class PesCollector implements EsSink {
  streams: readonly EsStreamDecl[] = [];
  readonly pes: DemuxedPes[] = [];
  private readonly open = new Map<number, { start: PesStart; parts: Buffer[] }>();

  onStreams(streams: readonly EsStreamDecl[]): void {
    this.streams = streams;
  }
  onPesStart(pes: PesStart): void {
    this.open.set(pes.id, { start: pes, parts: [] });
  }
  onPesData(id: number, data: Buffer): void {
    this.open.get(id)?.parts.push(Buffer.from(data));
  }
  onPesEnd(id: number): void {
    const open = this.open.get(id);
    if (!open) return;
    this.open.delete(id);
    const { start } = open;
    this.pes.push({
      pid: id,
      streamType: start.streamType ?? 0,
      pts: start.pts!,
      dts: start.dts ?? start.pts!,
      randomAccess: start.randomAccess ?? false,
      payload: Buffer.concat(open.parts),
    });
  }
  onDiscontinuity(): void {
    this.open.clear();
  }
}

/** A whole TS buffer through the demuxer, fed in slices of `sliceSize` bytes. */
export function demuxAll(ts: Buffer, sliceSize = ts.length): Demuxed {
  const sink = new PesCollector();
  const demuxer = new TsDemuxer(sink);
  for (let i = 0; i < ts.length; i += sliceSize) demuxer.feed(ts.subarray(i, i + sliceSize));
  demuxer.flush();
  return { streams: sink.streams, pes: sink.pes, stats: demuxer.stats };
}

export interface DemuxedAccessUnit {
  pid: number;
  streamType: number;
  pts: number;
  dts: number;
  randomAccess: boolean;
  /** Video: NAL units; audio: raw AAC frames (ADTS headers removed). */
  units: Buffer[];
  payloadBytes: number;
}

/** PES of a TS turned back into access units. */
export function accessUnits(pes: readonly DemuxedPes[]): DemuxedAccessUnit[] {
  return pes.map((e) => {
    const audio = e.streamType === STREAM_TYPE.AAC_ADTS;
    const units = audio ? splitAdts(e.payload).frames : splitAnnexB(e.payload);
    return { pid: e.pid, streamType: e.streamType, pts: e.pts, dts: e.dts, randomAccess: e.randomAccess, units, payloadBytes: e.payload.length };
  });
}

/** Muxes frames into one TS Buffer. */
export function muxAll(tracks: readonly Track[], frames: readonly Frame[], muxer = new TsMuxer()): Buffer {
  muxer.setTracks(tracks);
  const parts: Buffer[] = [];
  for (const frame of frames) {
    const out = muxer.frame(frame);
    if (out) parts.push(out.data);
  }
  return Buffer.concat(parts);
}

/**
 * The Annex B access unit size the muxer must produce for a video frame: a 4-byte start code
 * per unit, its AUD (2 bytes H.264, 3 bytes H.265) and, on keyframes without in-band SPS, the
 * track's parameter sets. In-band AUDs are replaced.
 */
export function expectedVideoSize(frame: Frame, track: Track): number {
  const h265 = track.codec === 'h265';
  const type = (u: Buffer): number => (h265 ? (u[0]! >>> 1) & 0x3f : u[0]! & 0x1f);
  const units = frame.units.filter((u) => u.length > 0 && type(u) !== (h265 ? 35 : 9));
  let size = 4 + (h265 ? 3 : 2);
  for (const u of units) size += 4 + u.length;
  const inBandSps = units.some((u) => type(u) === (h265 ? 33 : 7));
  if (frame.keyframe && !inBandSps) {
    const sets = track.codec === 'h265' ? [track.vps, track.sps, track.pps] : track.codec === 'h264' ? [track.sps, track.pps] : [];
    for (const s of sets) if (s) size += 4 + s.length;
  }
  return size;
}

/**
 * Tracks and frames of a third-party TS (one video, one AAC stream) through our demuxer: video
 * parameter sets from the first keyframe (they stay in-band in the units), AAC frames split out
 * of multi-frame PES with their times spaced by 1024 samples.
 */
export function tsFileMedia(ts: Buffer): { tracks: Track[]; frames: Frame[] } {
  const frames: Frame[] = [];
  let video: Track | undefined;
  let audio: Track | undefined;
  for (const e of demuxAll(ts).pes) {
    if (e.streamType === STREAM_TYPE.AAC_ADTS) {
      const split = splitAdts(e.payload);
      audio ??= aacTrackFromAdts(1, split.config!);
      const rate = split.config!.sampleRate;
      split.frames.forEach((unit, i) => {
        const dts = e.pts + Math.round((i * 1024 * 90_000) / rate);
        frames.push({ trackId: 1, codec: 'aac', dts, pts: dts, keyframe: true, units: [unit], byteLength: unit.length, receivedAt: 0 });
      });
      continue;
    }
    const h265 = e.streamType === STREAM_TYPE.H265;
    const units = splitAnnexB(e.payload);
    const keyframe = h265 ? isH265Keyframe(units) : isH264Keyframe(units);
    if (!video && keyframe) {
      video = h265
        ? h265Track(0, findH265Unit(units, H265_NAL.VPS), findH265Unit(units, H265_NAL.SPS), findH265Unit(units, H265_NAL.PPS))
        : h264Track(0, findH264Unit(units, H264_NAL.SPS), findH264Unit(units, H264_NAL.PPS));
    }
    frames.push({ trackId: 0, codec: h265 ? 'h265' : 'h264', dts: e.dts, pts: e.pts, keyframe, units, byteLength: units.reduce((n, u) => n + u.length, 0), receivedAt: 0 });
  }
  frames.sort((a, b) => a.dts - b.dts || a.trackId - b.trackId);
  return { tracks: [video, audio].filter((t): t is Track => t !== undefined), frames };
}

export interface TsIntegrity {
  continuityErrors: number;
  /** PES whose DTS went below the previous one on the same PID. */
  dtsBackwards: number;
  pesCount: number;
  firstVideoRandomAccess: boolean;
}

/** Structural check of captured TS (the capture may end mid-packet). */
export function tsIntegrity(ts: Buffer): TsIntegrity {
  const whole = ts.subarray(0, ts.length - (ts.length % 188));
  const { pes, stats } = demuxAll(whole);
  const lastDts = new Map<number, number>();
  let dtsBackwards = 0;
  let firstVideoRandomAccess: boolean | undefined;
  for (const e of pes) {
    if (e.streamType !== STREAM_TYPE.AAC_ADTS) firstVideoRandomAccess ??= e.randomAccess;
    const last = lastDts.get(e.pid);
    if (last !== undefined && e.dts < last) dtsBackwards++;
    lastDts.set(e.pid, e.dts);
  }
  return { continuityErrors: stats.continuityErrors, dtsBackwards, pesCount: pes.length, firstVideoRandomAccess: firstVideoRandomAccess ?? false };
}

export interface ScannedPacket {
  pid: number;
  start: boolean;
  continuity: number;
  /** PCR base (90 kHz) when the adaptation field carries one. */
  pcr?: number;
  payload: Buffer;
}

/**
 * The TS packets of a buffer, header fields read as written: what the muxer tests check below
 * the demuxer (PCR placement, PMT versions, PES lengths). Spec: ISO/IEC 13818-1 §2.4.3.2-§2.4.3.5.
 */
export function scanPackets(ts: Buffer): ScannedPacket[] {
  const out: ScannedPacket[] = [];
  for (let o = 0; o + 188 <= ts.length; o += 188) {
    const p = ts.subarray(o, o + 188);
    const control = (p[3]! >>> 4) & 0x03;
    let offset = 4;
    let pcr: number | undefined;
    if (control & 0x02) {
      const length = p[4]!;
      if (length >= 7 && p[5]! & 0x10) pcr = p[6]! * 2 ** 25 + ((p[7]! << 17) | (p[8]! << 9) | (p[9]! << 1) | (p[10]! >>> 7));
      offset = 5 + length;
    }
    const packet: ScannedPacket = { pid: ((p[1]! & 0x1f) << 8) | p[2]!, start: (p[1]! & 0x40) !== 0, continuity: p[3]! & 0x0f, payload: p.subarray(offset) };
    if (pcr !== undefined) packet.pcr = pcr;
    out.push(packet);
  }
  return out;
}

/** version_number and PCR_PID of every PMT section (one per packet, as our muxer writes them). */
export function pmtHeaders(ts: Buffer, pmtPid: number): { version: number; pcrPid: number }[] {
  return scanPackets(ts)
    .filter((p) => p.pid === pmtPid && p.start)
    .map((p) => {
      const section = p.payload.subarray(1 + p.payload[0]!);
      return { version: (section[5]! >>> 1) & 0x1f, pcrPid: section.readUInt16BE(8) & 0x1fff };
    });
}
