import { splitAdts } from '../../../src/codecs/aac/adts';
import { aacTrackFromAdts } from '../../../src/codecs/aac/track';
import { splitAnnexB } from '../../../src/codecs/annexb';
import { H264_NAL, findH264Unit, isH264Keyframe } from '../../../src/codecs/h264/nal';
import { h264Track } from '../../../src/codecs/h264/track';
import { H265_NAL, findH265Unit, isH265Keyframe } from '../../../src/codecs/h265/nal';
import { h265Track } from '../../../src/codecs/h265/track';
import type { Frame } from '../../../src/core/frame';
import type { Track } from '../../../src/core/track';
import { STREAM_TYPE, TsDemuxer, TsMuxer, type TsDemuxEvent } from '../../../src/formats/mpegts';

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

/** Every event of a whole TS buffer through the strict demuxer. */
export function demuxAll(ts: Buffer, sliceSize = ts.length): TsDemuxEvent[] {
  const demuxer = new TsDemuxer();
  const events: TsDemuxEvent[] = [];
  for (let i = 0; i < ts.length; i += sliceSize) events.push(...demuxer.feed(ts.subarray(i, i + sliceSize)));
  events.push(...demuxer.flush());
  return events;
}

/** PES events of a TS turned back into access units. */
export function accessUnits(events: readonly TsDemuxEvent[]): DemuxedAccessUnit[] {
  const out: DemuxedAccessUnit[] = [];
  for (const e of events) {
    if (e.type !== 'pes') continue;
    const audio = e.streamType === STREAM_TYPE.AAC_ADTS;
    const units = audio ? splitAdts(e.payload).frames : splitAnnexB(e.payload);
    out.push({ pid: e.pid, streamType: e.streamType, pts: e.pts!, dts: e.dts!, randomAccess: e.randomAccess, units, payloadBytes: e.payload.length });
  }
  return out;
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
  const events = demuxAll(ts);
  const frames: Frame[] = [];
  let video: Track | undefined;
  let audio: Track | undefined;
  for (const e of events) {
    if (e.type !== 'pes') continue;
    if (e.streamType === STREAM_TYPE.AAC_ADTS) {
      const split = splitAdts(e.payload);
      audio ??= aacTrackFromAdts(1, split.config!);
      const rate = split.config!.sampleRate;
      split.frames.forEach((unit, i) => {
        const dts = e.pts! + Math.round((i * 1024 * 90_000) / rate);
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
    frames.push({ trackId: 0, codec: h265 ? 'h265' : 'h264', dts: e.dts!, pts: e.pts!, keyframe, units, byteLength: units.reduce((n, u) => n + u.length, 0), receivedAt: 0 });
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

/** Strict structural check of captured TS (the capture may end mid-packet). */
export function tsIntegrity(ts: Buffer): TsIntegrity {
  const whole = ts.subarray(0, ts.length - (ts.length % 188));
  const events = demuxAll(whole);
  const lastDts = new Map<number, number>();
  let dtsBackwards = 0;
  let pesCount = 0;
  let firstVideoRandomAccess: boolean | undefined;
  for (const e of events) {
    if (e.type !== 'pes') continue;
    pesCount++;
    if (e.streamType !== STREAM_TYPE.AAC_ADTS) firstVideoRandomAccess ??= e.randomAccess;
    const last = lastDts.get(e.pid);
    if (last !== undefined && e.dts! < last) dtsBackwards++;
    lastDts.set(e.pid, e.dts!);
  }
  return { continuityErrors: events.filter((e) => e.type === 'continuity').length, dtsBackwards, pesCount, firstVideoRandomAccess: firstVideoRandomAccess ?? false };
}
