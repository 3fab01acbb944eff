import { aacTrack } from '../../codecs/aac/track';
import { parseAudioSpecificConfig } from '../../codecs/aac/asc';
import { splitLengthPrefixed } from '../../codecs/annexb';
import { g711Track } from '../../codecs/g711/g711';
import { parseAvcDecoderConfigurationRecord } from '../../codecs/h264/avc-config';
import { isH264Keyframe } from '../../codecs/h264/nal';
import { parseH264Sps } from '../../codecs/h264/sps';
import { h264Track, h264TrackHas } from '../../codecs/h264/track';
import { parseHevcDecoderConfigurationRecord } from '../../codecs/h265/hevc-config';
import { isH265Keyframe } from '../../codecs/h265/nal';
import { parseH265Sps } from '../../codecs/h265/sps';
import { h265Track, h265TrackHas } from '../../codecs/h265/track';
import type { AudioCodec, VideoCodec } from '../../core/codec';
import { ParseError, parseAssert } from '../../core/errors';
import type { Frame } from '../../core/frame';
import { TICKS_PER_MS } from '../../core/time';
import type { AudioTrack, Track, VideoTrack } from '../../core/track';
import {
  AAC_PACKET_RAW,
  AAC_PACKET_SEQUENCE_HEADER,
  AVC_PACKET_END_OF_SEQUENCE,
  AVC_PACKET_NALU,
  AVC_PACKET_SEQUENCE_HEADER,
  EX_HEADER_FLAG,
  EX_PACKET,
  FOURCC_AVC1,
  FOURCC_HVC1,
  FOURCC_MP4A,
  SOUND_FORMAT,
  VIDEO_CODEC_ID,
  VIDEO_FRAME_COMMAND,
  VIDEO_FRAME_KEY,
  fourCcString,
} from './constants';

/** What one FLV audio/video tag body gave: a new Track value, a Frame, both or neither. */
export interface DecodedTag {
  /** Set when a sequence header (or a first G.711 tag) made a new or changed Track value. */
  readonly track?: Track;
  readonly frame?: Frame;
}

export const FLV_VIDEO_TRACK_ID = 0;
export const FLV_AUDIO_TRACK_ID = 1;

const SOUND_FORMAT_NAMES: Readonly<Record<number, string>> = {
  0: 'linear PCM',
  1: 'ADPCM',
  2: 'MP3',
  3: 'linear PCM LE',
  4: 'Nellymoser 16 kHz',
  5: 'Nellymoser 8 kHz',
  6: 'Nellymoser',
  11: 'Speex',
  14: 'MP3 8 kHz',
  15: 'device-specific',
};
const VIDEO_CODEC_NAMES: Readonly<Record<number, string>> = { 2: 'Sorenson H.263', 3: 'Screen video', 4: 'VP6', 5: 'VP6 alpha', 6: 'Screen video 2' };

/**
 * Turns FLV/RTMP audio and video tag bodies of one stream into hub Tracks and Frames (shared by
 * the RTMP publish path and the FLV demuxer's users). Handles AVC (codec id 7), legacy HEVC
 * (codec id 12), Enhanced RTMP 'hvc1'/'avc1' (SequenceStart, CodedFrames, CodedFramesX), AAC
 * (also as Enhanced RTMP 'mp4a') and G.711 (sound formats 7 and 8). Video is track 0, audio 1;
 * times are ms * 90 ticks, pts = dts + composition time (never below dts).
 * Frames keep subarrays of the given body (no copy): the caller must not reuse that memory.
 * Unsupported codecs and bad bodies throw a ParseError; the decoder stays usable afterwards.
 */
export class FlvBodyDecoder {
  private videoTrack: VideoTrack | undefined;
  private audioTrack: AudioTrack | undefined;
  private videoLengthSize = 4;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The current tracks (video first). */
  get tracks(): Track[] {
    return [this.videoTrack, this.audioTrack].filter((t): t is Track => t !== undefined);
  }

  video(timestampMs: number, body: Buffer): DecodedTag {
    parseAssert(body.length >= 1, 'empty FLV video tag');
    if ((body[0]! & EX_HEADER_FLAG) !== 0) return this.enhancedVideo(timestampMs, body);
    const frameType = body[0]! >>> 4;
    const codecId = body[0]! & 0x0f;
    if (codecId !== VIDEO_CODEC_ID.AVC && codecId !== VIDEO_CODEC_ID.HEVC_LEGACY) {
      throw new ParseError(`unsupported FLV video codec id ${codecId} (${VIDEO_CODEC_NAMES[codecId] ?? 'unknown'})`);
    }
    if (frameType === VIDEO_FRAME_COMMAND) return {};
    parseAssert(body.length >= 5, `FLV video tag of ${body.length} bytes has no AVC packet header`);
    const codec: VideoCodec = codecId === VIDEO_CODEC_ID.AVC ? 'h264' : 'h265';
    const cts = body.readIntBE(2, 3);
    switch (body[1]) {
      case AVC_PACKET_SEQUENCE_HEADER:
        return this.videoConfig(codec, body.subarray(5));
      case AVC_PACKET_NALU:
        return this.videoFrame(codec, timestampMs, cts, frameType, body.subarray(5));
      case AVC_PACKET_END_OF_SEQUENCE:
        return {};
      default:
        throw new ParseError(`unknown AVCPacketType ${body[1]}`);
    }
  }

  audio(timestampMs: number, body: Buffer): DecodedTag {
    parseAssert(body.length >= 1, 'empty FLV audio tag');
    const format = body[0]! >>> 4;
    switch (format) {
      case SOUND_FORMAT.AAC:
        parseAssert(body.length >= 2, 'FLV AAC tag has no AACPacketType');
        if (body[1] === AAC_PACKET_SEQUENCE_HEADER) return this.aacConfig(body.subarray(2));
        if (body[1] === AAC_PACKET_RAW) return this.aacFrame(timestampMs, body.subarray(2));
        throw new ParseError(`unknown AACPacketType ${body[1]}`);
      case SOUND_FORMAT.G711_ALAW:
        return this.g711(timestampMs, 'g711a', body.subarray(1));
      case SOUND_FORMAT.G711_MULAW:
        return this.g711(timestampMs, 'g711u', body.subarray(1));
      case SOUND_FORMAT.EX_HEADER:
        return this.enhancedAudio(timestampMs, body);
      default:
        throw new ParseError(`unsupported FLV audio sound format ${format} (${SOUND_FORMAT_NAMES[format] ?? 'reserved'})`);
    }
  }

  /** Spec: Enhanced RTMP v1/v2 ExVideoTagHeader. */
  private enhancedVideo(timestampMs: number, body: Buffer): DecodedTag {
    const frameType = (body[0]! >>> 4) & 0x07;
    const packetType = body[0]! & 0x0f;
    if (packetType === EX_PACKET.MULTITRACK || packetType === EX_PACKET.MOD_EX) {
      throw new ParseError(`Enhanced RTMP video packet type ${packetType} (multitrack/ModEx) is not supported`);
    }
    parseAssert(body.length >= 5, 'Enhanced RTMP video tag has no FourCC');
    if (frameType === VIDEO_FRAME_COMMAND && packetType !== EX_PACKET.METADATA) return {};
    const fourCc = body.readUInt32BE(1);
    const codec: VideoCodec | undefined = fourCc === FOURCC_HVC1 ? 'h265' : fourCc === FOURCC_AVC1 ? 'h264' : undefined;
    if (!codec) throw new ParseError(`unsupported Enhanced RTMP video FourCC '${fourCcString(fourCc)}'`);
    switch (packetType) {
      case EX_PACKET.SEQUENCE_START:
        return this.videoConfig(codec, body.subarray(5));
      case EX_PACKET.CODED_FRAMES:
        parseAssert(body.length >= 8, 'Enhanced RTMP CodedFrames tag has no composition time');
        return this.videoFrame(codec, timestampMs, body.readIntBE(5, 3), frameType, body.subarray(8));
      case EX_PACKET.CODED_FRAMES_X:
        return this.videoFrame(codec, timestampMs, 0, frameType, body.subarray(5));
      case EX_PACKET.SEQUENCE_END:
      case EX_PACKET.METADATA:
        return {};
      default:
        throw new ParseError(`Enhanced RTMP video packet type ${packetType} is not supported`);
    }
  }

  /** Spec: Enhanced RTMP v2 ExAudioTagHeader; only 'mp4a' (AAC) is carried. */
  private enhancedAudio(timestampMs: number, body: Buffer): DecodedTag {
    const packetType = body[0]! & 0x0f;
    if (packetType === EX_PACKET.MULTITRACK || packetType === EX_PACKET.MOD_EX) {
      throw new ParseError(`Enhanced RTMP audio packet type ${packetType} (multitrack/ModEx) is not supported`);
    }
    parseAssert(body.length >= 5, 'Enhanced RTMP audio tag has no FourCC');
    const fourCc = body.readUInt32BE(1);
    if (fourCc !== FOURCC_MP4A) throw new ParseError(`unsupported Enhanced RTMP audio FourCC '${fourCcString(fourCc)}'`);
    switch (packetType) {
      case EX_PACKET.SEQUENCE_START:
        return this.aacConfig(body.subarray(5));
      case EX_PACKET.CODED_FRAMES:
        return this.aacFrame(timestampMs, body.subarray(5));
      case EX_PACKET.SEQUENCE_END:
      case 4: // MultichannelConfig: the ASC already says what the decoder needs
        return {};
      default:
        throw new ParseError(`Enhanced RTMP audio packet type ${packetType} is not supported`);
    }
  }

  private videoConfig(codec: VideoCodec, record: Buffer): DecodedTag {
    if (codec === 'h264') {
      const config = parseAvcDecoderConfigurationRecord(record);
      const [sps, pps] = [config.sps[0], config.pps[0]];
      if (!sps || !pps) throw new ParseError('AVC sequence header without SPS or PPS');
      parseH264Sps(sps); // a ParseError here names what is wrong better than a track that never gets ready
      this.videoLengthSize = config.lengthSize;
      const current = this.videoTrack;
      if (current?.codec === 'h264' && h264TrackHas(current, sps, pps)) return {};
      this.videoTrack = h264Track(FLV_VIDEO_TRACK_ID, sps, pps);
      return { track: this.videoTrack };
    }
    const config = parseHevcDecoderConfigurationRecord(record);
    const [vps, sps, pps] = [config.vps[0], config.sps[0], config.pps[0]];
    if (!vps || !sps || !pps) throw new ParseError('HEVC sequence header without VPS, SPS or PPS');
    parseH265Sps(sps);
    this.videoLengthSize = config.lengthSize;
    const current = this.videoTrack;
    if (current?.codec === 'h265' && h265TrackHas(current, vps, sps, pps)) return {};
    this.videoTrack = h265Track(FLV_VIDEO_TRACK_ID, vps, sps, pps);
    return { track: this.videoTrack };
  }

  private videoFrame(codec: VideoCodec, timestampMs: number, cts: number, frameType: number, data: Buffer): DecodedTag {
    const lengthSize = this.videoTrack?.codec === codec ? this.videoLengthSize : 4;
    const units = splitLengthPrefixed(data, lengthSize);
    if (units.length === 0) return {};
    const keyframe = frameType === VIDEO_FRAME_KEY || (codec === 'h264' ? isH264Keyframe(units) : isH265Keyframe(units));
    const dts = timestampMs * TICKS_PER_MS;
    const pts = Math.max(dts, (timestampMs + cts) * TICKS_PER_MS);
    return { frame: this.frame(FLV_VIDEO_TRACK_ID, codec, dts, pts, keyframe, units) };
  }

  private aacConfig(asc: Buffer): DecodedTag {
    parseAudioSpecificConfig(asc);
    const current = this.audioTrack;
    if (current?.codec === 'aac' && current.asc?.equals(asc)) return {};
    this.audioTrack = aacTrack(FLV_AUDIO_TRACK_ID, asc);
    return { track: this.audioTrack };
  }

  private aacFrame(timestampMs: number, data: Buffer): DecodedTag {
    if (data.length === 0) return {};
    const dts = timestampMs * TICKS_PER_MS;
    return { frame: this.frame(FLV_AUDIO_TRACK_ID, 'aac', dts, dts, true, [data]) };
  }

  private g711(timestampMs: number, codec: AudioCodec & ('g711a' | 'g711u'), data: Buffer): DecodedTag {
    let track: Track | undefined;
    if (this.audioTrack?.codec !== codec) {
      this.audioTrack = g711Track(FLV_AUDIO_TRACK_ID, codec);
      track = this.audioTrack;
    }
    const dts = timestampMs * TICKS_PER_MS;
    const frame = data.length > 0 ? this.frame(FLV_AUDIO_TRACK_ID, codec, dts, dts, true, [data]) : undefined;
    return { ...(track ? { track } : {}), ...(frame ? { frame } : {}) };
  }

  private frame(trackId: number, codec: Frame['codec'], dts: number, pts: number, keyframe: boolean, units: Buffer[]): Frame {
    let byteLength = 0;
    for (const unit of units) byteLength += unit.length;
    return { trackId, codec, dts, pts, keyframe, units, byteLength, receivedAt: this.now() };
  }
}
