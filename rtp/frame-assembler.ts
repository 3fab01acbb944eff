import type { AudioCodec, VideoCodec } from '../src/core/codec';
import { unitsByteLength, type Frame } from '../src/core/frame';
import type { Publisher } from '../src/core/source';
import { TimestampNormalizer } from '../src/core/time';
import { pendingTrack, type AudioTrack, type Track, type VideoTrack } from '../src/core/track';
import type { AdtsHeader } from '../src/codecs/aac/adts';
import { aacTrack, aacTrackFromAdts } from '../src/codecs/aac/track';
import { g711Track } from '../src/codecs/g711/g711';
import { H264_NAL, isH264Keyframe } from '../src/codecs/h264/nal';
import { h264Track } from '../src/codecs/h264/track';
import { H265_NAL, isH265Keyframe } from '../src/codecs/h265/nal';
import { h265Track } from '../src/codecs/h265/track';
import { sameBytes } from '../src/codecs/h264/track';
import type { AccessUnit, AccessUnitSink, AudioAccessUnit, VideoAccessUnit } from './access-unit';

/**
 * Turns access units into hub Tracks and Frames for one Publisher: Tracks from in-band
 * parameter sets (a new SPS makes a new Track value), the ADTS header or the SDP config; audio
 * that appears late is announced then (the hub's track gate copes with audio that never does);
 * timestamps rebased on the publisher's resumeDts and normalised (hub rule 5); AUDs dropped;
 * video held back until the track is ready and a keyframe arrives.
 */

export type FramePublisher = Pick<Publisher, 'setTracks' | 'write' | 'resumeDts'>;

export interface FrameAssemblerOptions {
  videoTrackId?: number;
  audioTrackId?: number;
  /** Monotonic clock (ms) for Frame.receivedAt. Default performance.now. */
  now?: () => number;
  /** A dts step back smaller than this (ticks) is clamped rather than re-anchored. Default 1 s. */
  maxClampTicks?: number;
}

export interface FrameAssemblerStats {
  videoFrames: number;
  audioFrames: number;
  /** Video dropped before the track was ready or before the first keyframe. */
  droppedBeforeKeyframe: number;
  trackUpdates: number;
}

interface AudioConfigKey {
  codec: AudioCodec;
  adts?: AdtsHeader;
  asc?: Buffer;
}

export class FrameAssembler implements AccessUnitSink {
  readonly stats: FrameAssemblerStats = { videoFrames: 0, audioFrames: 0, droppedBeforeKeyframe: 0, trackUpdates: 0 };
  private readonly videoId: number;
  private readonly audioId: number;
  private readonly now: () => number;
  private readonly maxClamp: number;
  private readonly normalizer: TimestampNormalizer;
  private video: VideoTrack | undefined;
  private audio: AudioTrack | undefined;
  private audioKey: AudioConfigKey | undefined;
  private vps: Buffer | undefined;
  private sps: Buffer | undefined;
  private pps: Buffer | undefined;
  private keyframeSeen = false;
  private readonly lastDts = new Map<number, number>();

  constructor(
    private readonly publisher: FramePublisher,
    options: FrameAssemblerOptions = {},
  ) {
    this.videoId = options.videoTrackId ?? 0;
    this.audioId = options.audioTrackId ?? 1;
    this.now = options.now ?? (() => performance.now());
    this.maxClamp = options.maxClampTicks ?? 90_000;
    this.normalizer = new TimestampNormalizer(publisher.resumeDts);
  }

  get tracks(): readonly Track[] {
    const out: Track[] = [];
    if (this.video) out.push(this.video);
    if (this.audio) out.push(this.audio);
    return out;
  }

  onDeclared(declared: { video?: VideoCodec; audio?: AudioCodec }): void {
    let changed = false;
    if (declared.video && this.video?.codec !== declared.video) {
      this.video = pendingTrack(this.videoId, declared.video) as VideoTrack;
      changed = true;
    }
    if (declared.audio && !this.audio) {
      this.audio = pendingTrack(this.audioId, declared.audio) as AudioTrack;
      changed = true;
    }
    if (changed) this.publishTracks();
  }

  onAccessUnit(au: AccessUnit): void {
    if (au.kind === 'video') this.onVideo(au);
    else this.onAudio(au);
  }

  /** After loss with no way to repair the picture chain, hold video until the next keyframe. */
  waitForKeyframe(): void {
    this.keyframeSeen = false;
  }

  private onVideo(au: VideoAccessUnit): void {
    const units = this.updateVideoTrack(au.codec, au.units);
    const track = this.video!;
    const keyframe = au.codec === 'h264' ? isH264Keyframe(units) : isH265Keyframe(units);
    if (!track.ready || (!keyframe && !this.keyframeSeen) || units.length === 0) {
      this.stats.droppedBeforeKeyframe++;
      return;
    }
    this.keyframeSeen = true;
    this.stats.videoFrames++;
    this.write(this.videoId, au.codec, au.dts, au.pts, keyframe, units);
  }

  /** Drops AUDs, picks up parameter sets, and makes a new Track value when they change. */
  private updateVideoTrack(codec: VideoCodec, input: readonly Buffer[]): Buffer[] {
    const units: Buffer[] = [];
    let vps = this.vps;
    let sps = this.sps;
    let pps = this.pps;
    for (const unit of input) {
      if (unit.length === 0) continue;
      const type = codec === 'h264' ? unit[0]! & 0x1f : (unit[0]! >> 1) & 0x3f;
      if (codec === 'h264') {
        if (type === H264_NAL.AUD) continue;
        if (type === H264_NAL.SPS) sps = unit;
        else if (type === H264_NAL.PPS) pps = unit;
      } else {
        if (type === H265_NAL.AUD) continue;
        if (type === H265_NAL.VPS) vps = unit;
        else if (type === H265_NAL.SPS) sps = unit;
        else if (type === H265_NAL.PPS) pps = unit;
      }
      units.push(unit);
    }
    const current = this.video;
    const same = current?.codec === codec && sameBytes(this.sps, sps) && sameBytes(this.pps, pps) && sameBytes(this.vps, vps);
    if (!same || !current) {
      this.vps = vps;
      this.sps = sps;
      this.pps = pps;
      this.video = codec === 'h264' ? h264Track(this.videoId, sps, pps) : h265Track(this.videoId, vps, sps, pps);
      if (current?.codec !== codec) this.keyframeSeen = false;
      this.publishTracks();
    }
    return units;
  }

  private onAudio(au: AudioAccessUnit): void {
    this.updateAudioTrack(au);
    if (!this.audio?.ready) return;
    this.stats.audioFrames++;
    this.write(this.audioId, au.codec, au.pts, au.pts, true, [au.data]);
  }

  private updateAudioTrack(au: AudioAccessUnit): void {
    const key = this.audioKey;
    if (key && key.codec === au.codec && sameAdts(key.adts, au.adts) && sameBytes(key.asc, au.asc)) return;
    this.audioKey = { codec: au.codec, ...(au.adts ? { adts: au.adts } : {}), ...(au.asc ? { asc: au.asc } : {}) };
    if (au.codec === 'aac') {
      if (au.asc) this.audio = aacTrack(this.audioId, au.asc);
      else if (au.adts) this.audio = aacTrackFromAdts(this.audioId, au.adts);
      else this.audio = pendingTrack(this.audioId, 'aac') as AudioTrack;
    } else {
      this.audio = g711Track(this.audioId, au.codec);
    }
    this.publishTracks();
  }

  private write(trackId: number, codec: VideoCodec | AudioCodec, dtsIn: number, ptsIn: number, keyframe: boolean, units: Buffer[]): void {
    let dts = dtsIn;
    const last = this.lastDts.get(trackId);
    // Small steps back (B-frame muxers without DTS on the first pictures) are clamped; big
    // ones (a camera restarting its clock) go to the normaliser, which re-anchors.
    if (last !== undefined && dts < last && last - dts <= this.maxClamp) dts = last;
    this.lastDts.set(trackId, dts);
    const pts = Math.max(ptsIn, dts);
    const t = this.normalizer.normalize(trackId, dts, pts);
    const frame: Frame = { trackId, codec, dts: t.dts, pts: t.pts, keyframe, units, byteLength: unitsByteLength(units), receivedAt: this.now() };
    this.publisher.write(frame);
  }

  private publishTracks(): void {
    this.stats.trackUpdates++;
    this.publisher.setTracks(this.tracks);
  }
}

function sameAdts(a: AdtsHeader | undefined, b: AdtsHeader | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.objectType === b.objectType && a.sampleRateIndex === b.sampleRateIndex && a.channels === b.channels;
}
