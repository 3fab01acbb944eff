import type { AudioCodec, VideoCodec } from '../../src/core/codec';
import { WrapUnwrapper } from '../../src/core/time';
import type { AccessUnitSink } from '../access-unit';
import { AudioEs, type RawAudioAu } from './audio-es';
import { STREAM_TYPE } from '../../src/formats/mpegts/constants';
import type { EsStreamDecl, EsSink, PesStart } from '../../src/formats/mpegts/es-sink';
import { VideoEs, type RawVideoAu } from './video-es';

/**
 * The EsSink behind the PS and TS demuxers: picks the first video and the first audio stream,
 * assembles their access units, gives them absolute 90 kHz times (33-bit PES clock unwrapped;
 * the RTP clock when PES carry no usable PTS) and hands them to an AccessUnitSink.
 *
 * RTP hints (GB28181): the marker bit ends a frame, and so does a change of RTP timestamp once
 * something other than the same picture follows; either emits the video access unit at once
 * instead of waiting for the next picture (one frame less latency).
 */

export interface EsAssemblerOptions {
  /** G.711 law assumed for unlabelled audio that is not ADTS. Default g711a (most cameras). */
  defaultG711?: 'g711a' | 'g711u';
  /** Use RTP marker / timestamp changes to emit video early. Default true. */
  earlyFlush?: boolean;
}

export interface EsAssemblerStats {
  videoAccessUnits: number;
  audioAccessUnits: number;
  droppedAccessUnits: number;
  droppedBytes: number;
  /** PES of a second video or audio stream (ignored). */
  ignoredPes: number;
  /** Access units without any usable time (dropped). */
  untimed: number;
  audioErrors: number;
  mislabelledAudio: boolean;
  unsupportedAudio: boolean;
}

/** A PES clock that does not advance for this many pictures is replaced by the RTP clock. */
const STUCK_PTS_LIMIT = 10;
const DEFAULT_FRAME_TICKS = 3600;

function videoCodecOf(streamType: number | undefined): VideoCodec | undefined {
  if (streamType === STREAM_TYPE.H264) return 'h264';
  if (streamType === STREAM_TYPE.H265) return 'h265';
  return undefined;
}

/** pts - dts modulo 2^33; a pts before its dts (a broken muxer) counts as 0. */
function compositionOffset(pts: number, dts: number): number {
  let cto = (pts - dts) % 2 ** 33;
  if (cto < 0) cto += 2 ** 33;
  return cto > 2 ** 32 ? 0 : cto;
}

export class EsAssembler implements EsSink {
  private video: VideoEs | undefined;
  private videoId: number | undefined;
  private audio: AudioEs | undefined;
  private audioId: number | undefined;
  private readonly pesClock = new WrapUnwrapper(33);
  private readonly rtpClock = new WrapUnwrapper(32);
  private lastRtp: number | undefined;
  private videoPesOpen = false;
  private videoPesUnbounded = false;
  private flushAtPesEnd = false;
  private timestampHint = false;
  private useRtpClock = false;
  private stuck = 0;
  private lastVideoPts: number | undefined;
  private lastRawPts: number | undefined;
  private lastVideoStep = DEFAULT_FRAME_TICKS;
  private untimed = 0;
  private ignoredPes = 0;
  private readonly defaultG711: 'g711a' | 'g711u';
  private readonly earlyFlush: boolean;

  constructor(
    private readonly out: AccessUnitSink,
    options: EsAssemblerOptions = {},
  ) {
    this.defaultG711 = options.defaultG711 ?? 'g711a';
    this.earlyFlush = options.earlyFlush ?? true;
  }

  get stats(): EsAssemblerStats {
    const v = this.video?.stats;
    const a = this.audio?.stats;
    return {
      videoAccessUnits: v?.accessUnits ?? 0,
      audioAccessUnits: a?.accessUnits ?? 0,
      droppedAccessUnits: v?.droppedAccessUnits ?? 0,
      droppedBytes: (v?.droppedBytes ?? 0) + (a?.droppedBytes ?? 0),
      ignoredPes: this.ignoredPes,
      untimed: this.untimed,
      audioErrors: a?.errors ?? 0,
      mislabelledAudio: a?.mislabelled ?? false,
      unsupportedAudio: this.audio?.codec === 'unsupported',
    };
  }

  /** Before feeding an RTP packet's payload. */
  beginPacket(rtpTimestamp: number): void {
    if (this.lastRtp !== undefined && rtpTimestamp !== this.lastRtp) this.timestampHint = true;
    this.lastRtp = rtpTimestamp;
    this.video?.setRtpTimestamp(rtpTimestamp);
  }

  /** After feeding an RTP packet's payload. */
  endPacket(marker: boolean): void {
    if (!marker || !this.earlyFlush || !this.video) return;
    if (this.videoPesOpen && !this.videoPesUnbounded) this.flushAtPesEnd = true;
    else this.video.flush();
  }

  /** End of stream: the access units in progress are complete. */
  end(): void {
    this.video?.flush();
    this.audio?.pesEnd();
  }

  onStreams(streams: readonly EsStreamDecl[]): void {
    let video: VideoCodec | undefined;
    let audio: AudioCodec | undefined;
    for (const s of streams) {
      if (s.kind === 'video') video ??= videoCodecOf(s.streamType);
      // G.711 labels are not trusted before the payload is seen (AAC mislabelled as 0x90).
      else if (s.streamType === STREAM_TYPE.AAC_ADTS || s.streamType === STREAM_TYPE.AAC_RAW) audio ??= 'aac';
    }
    this.out.onDeclared?.({ ...(video ? { video } : {}), ...(audio ? { audio } : {}) });
  }

  onPesStart(pes: PesStart): void {
    let pts: number | undefined;
    let dts: number | undefined;
    if (pes.pts !== undefined) {
      if (pes.dts === undefined) {
        pts = this.pesClock.unwrap(pes.pts);
      } else {
        dts = this.pesClock.unwrap(pes.dts);
        pts = dts + compositionOffset(pes.pts, pes.dts);
      }
    }
    if (pes.kind === 'video') {
      this.videoId ??= pes.id;
      if (pes.id !== this.videoId) {
        this.ignoredPes++;
        return;
      }
      this.video ??= new VideoEs(videoCodecOf(pes.streamType), (au) => this.onVideo(au));
      if (this.lastRtp !== undefined) this.video.setRtpTimestamp(this.lastRtp);
      if (this.timestampHint && (pts === undefined || pts === this.video.currentPts)) this.timestampHint = false;
      this.applyTimestampHint();
      this.videoPesOpen = true;
      this.videoPesUnbounded = pes.unbounded === true;
      this.video.pesStart(pts, dts);
      return;
    }
    this.audioId ??= pes.id;
    if (pes.id !== this.audioId) {
      this.ignoredPes++;
      return;
    }
    this.applyTimestampHint();
    this.audio ??= new AudioEs(pes.streamType, this.defaultG711, (au) => this.onAudio(au));
    this.audio.pesStart(pts);
  }

  onPesData(id: number, data: Buffer): void {
    if (id === this.videoId) this.video?.data(data);
    else if (id === this.audioId) this.audio?.data(data);
  }

  onPesEnd(id: number): void {
    if (id === this.videoId) {
      this.videoPesOpen = false;
      if (this.flushAtPesEnd) {
        this.flushAtPesEnd = false;
        this.video?.flush();
      }
    } else if (id === this.audioId) {
      this.audio?.pesEnd();
    }
  }

  onDiscontinuity(): void {
    this.video?.discontinuity();
    this.audio?.discontinuity();
    this.videoPesOpen = false;
    this.flushAtPesEnd = false;
    this.timestampHint = false;
  }

  /** Something other than the same picture follows a timestamp change: the picture is done. */
  private applyTimestampHint(): void {
    if (!this.timestampHint) return;
    this.timestampHint = false;
    if (this.earlyFlush && !this.videoPesOpen) this.video?.flush();
  }

  private onVideo(au: RawVideoAu): void {
    let pts = au.pts;
    let dts = au.dts ?? au.pts;
    if (pts !== undefined && pts === this.lastRawPts) {
      if (++this.stuck > STUCK_PTS_LIMIT && au.rtpTimestamp !== undefined) this.useRtpClock = true;
    } else if (pts !== undefined) {
      this.stuck = 0;
    }
    if (pts !== undefined) this.lastRawPts = pts;
    if ((pts === undefined || this.useRtpClock) && au.rtpTimestamp !== undefined) {
      pts = this.rtpClock.unwrap(au.rtpTimestamp);
      dts = pts;
    } else if (pts === undefined && this.lastVideoPts !== undefined) {
      pts = this.lastVideoPts + this.lastVideoStep;
      dts = pts;
    }
    if (pts === undefined || dts === undefined) {
      this.untimed++;
      return;
    }
    if (this.lastVideoPts !== undefined && dts > this.lastVideoPts && dts - this.lastVideoPts < 90_000) {
      this.lastVideoStep = dts - this.lastVideoPts;
    }
    this.lastVideoPts = dts;
    this.out.onAccessUnit({ kind: 'video', codec: au.codec, units: au.units, pts, dts });
  }

  private onAudio(au: RawAudioAu): void {
    let pts = au.pts;
    if (pts === undefined && this.lastRtp !== undefined) pts = this.rtpClock.unwrap(this.lastRtp);
    if (pts === undefined) {
      this.untimed++;
      return;
    }
    this.out.onAccessUnit({ kind: 'audio', codec: au.codec, data: au.data, pts, ...(au.adts ? { adts: au.adts } : {}) });
  }
}
