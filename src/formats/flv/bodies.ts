import { buildAvcDecoderConfigurationRecord } from '../../codecs/h264/avc-config';
import { buildHevcDecoderConfigurationRecord } from '../../codecs/h265/hevc-config';
import { GatewayError } from '../../core/errors';
import type { Frame } from '../../core/frame';
import type { AudioTrack, VideoTrack } from '../../core/track';
import {
  AAC_PACKET_RAW,
  AAC_PACKET_SEQUENCE_HEADER,
  AVC_PACKET_END_OF_SEQUENCE,
  AVC_PACKET_NALU,
  AVC_PACKET_SEQUENCE_HEADER,
  EX_HEADER_FLAG,
  EX_PACKET,
  FOURCC_HVC1,
  SOUND_FORMAT,
  VIDEO_CODEC_ID,
  VIDEO_FRAME_INTER,
  VIDEO_FRAME_KEY,
} from './constants';

/**
 * How H.265 is written: 'enhanced' = Enhanced RTMP v1 (ExVideoTagHeader, FourCC 'hvc1'; ffmpeg
 * 6.1+, OBS, mpegts.js, SRS 6); 'legacy' = codec id 12 with the AVC layout (older Chinese CDN
 * players, flv.js forks). H.264 is always codec id 7.
 */
export type HevcMode = 'enhanced' | 'legacy';

/** The body of the video sequence header tag: the AVC/HEVC decoder configuration record. */
export function videoSequenceHeaderBody(track: VideoTrack, hevcMode: HevcMode): Buffer {
  if (track.codec === 'h264') {
    if (!track.ready || !track.sps || !track.pps) throw notReady(track.codec);
    const record = buildAvcDecoderConfigurationRecord(track.sps, track.pps);
    return Buffer.concat([legacyVideoHeader(VIDEO_FRAME_KEY, VIDEO_CODEC_ID.AVC, AVC_PACKET_SEQUENCE_HEADER, 0), record]);
  }
  if (!track.ready || !track.vps || !track.sps || !track.pps) throw notReady(track.codec);
  const record = buildHevcDecoderConfigurationRecord(track.vps, track.sps, track.pps);
  const header =
    hevcMode === 'enhanced'
      ? enhancedVideoHeader(VIDEO_FRAME_KEY, EX_PACKET.SEQUENCE_START)
      : legacyVideoHeader(VIDEO_FRAME_KEY, VIDEO_CODEC_ID.HEVC_LEGACY, AVC_PACKET_SEQUENCE_HEADER, 0);
  return Buffer.concat([header, record]);
}

/** The body of an end-of-sequence tag (optional; RTMP publishers send it before unpublishing). */
export function videoSequenceEndBody(codec: VideoTrack['codec'], hevcMode: HevcMode): Buffer {
  if (codec === 'h265' && hevcMode === 'enhanced') return enhancedVideoHeader(VIDEO_FRAME_KEY, EX_PACKET.SEQUENCE_END);
  const codecId = codec === 'h264' ? VIDEO_CODEC_ID.AVC : VIDEO_CODEC_ID.HEVC_LEGACY;
  return legacyVideoHeader(VIDEO_FRAME_KEY, codecId, AVC_PACKET_END_OF_SEQUENCE, 0);
}

/**
 * The body of a video tag as [header, length, unit, length, unit, ...]: the NAL units are the
 * frame's own Buffers (shared, never copied); the header and the 4-byte lengths are subarrays of
 * one small allocation. The composition time is (pts - dts) in ms. Enhanced H.265 uses
 * CodedFramesX when it is 0 and CodedFrames (with an SI24 composition time) otherwise.
 */
export function videoFrameBody(frame: Frame, hevcMode: HevcMode): Buffer[] {
  const frameType = frame.keyframe ? VIDEO_FRAME_KEY : VIDEO_FRAME_INTER;
  const cts = compositionTimeMs(frame);
  let header: Buffer;
  if (frame.codec === 'h264') header = legacyVideoHeader(frameType, VIDEO_CODEC_ID.AVC, AVC_PACKET_NALU, cts);
  else if (frame.codec !== 'h265') throw new GatewayError('UNSUPPORTED_CODEC', `${frame.codec} is not a video codec`);
  else if (hevcMode === 'legacy') header = legacyVideoHeader(frameType, VIDEO_CODEC_ID.HEVC_LEGACY, AVC_PACKET_NALU, cts);
  else if (cts === 0) header = enhancedVideoHeader(frameType, EX_PACKET.CODED_FRAMES_X);
  else header = enhancedVideoHeader(frameType, EX_PACKET.CODED_FRAMES, cts);
  const scratch = Buffer.allocUnsafe(header.length + 4 * frame.units.length);
  header.copy(scratch);
  const parts: Buffer[] = [scratch.subarray(0, header.length)];
  let offset = header.length;
  for (const unit of frame.units) {
    scratch.writeUInt32BE(unit.length, offset);
    parts.push(scratch.subarray(offset, offset + 4), unit);
    offset += 4;
  }
  return parts;
}

/** The AAC sequence header body (0xAF 0x00 + AudioSpecificConfig); undefined for G.711. */
export function audioSequenceHeaderBody(track: AudioTrack): Buffer | undefined {
  if (track.codec !== 'aac') return undefined;
  if (!track.ready || !track.asc) throw notReady(track.codec);
  return Buffer.concat([Buffer.from([aacSoundByte(), AAC_PACKET_SEQUENCE_HEADER]), track.asc]);
}

/**
 * The body of an audio tag: [header, ...units] with the frame's Buffers shared. AAC: 0xAF 0x01
 * + raw access unit. G.711: SoundFormat 7 (A-law) or 8 (µ-law) with the flags players and
 * ffmpeg use for 8 kHz mono (rate field 0, 16-bit, mono): 0x72 / 0x82.
 */
export function audioFrameBody(frame: Frame, track: AudioTrack): Buffer[] {
  if (track.codec === 'aac') return [Buffer.from([aacSoundByte(), AAC_PACKET_RAW]), ...frame.units];
  const format = track.codec === 'g711a' ? SOUND_FORMAT.G711_ALAW : SOUND_FORMAT.G711_MULAW;
  return [Buffer.from([(format << 4) | 0x02]), ...frame.units];
}

/** Spec: FLV v10.1 §E.4.2.1: for AAC, SoundRate 3 (44 kHz), SoundSize 1, SoundType 1 always. */
function aacSoundByte(): number {
  return (SOUND_FORMAT.AAC << 4) | 0x0f;
}

/** pts - dts in ms, clamped to the SI24 range. */
function compositionTimeMs(frame: Frame): number {
  const cts = Math.round((frame.pts - frame.dts) / 90);
  return Math.max(-0x800000, Math.min(0x7fffff, cts));
}

/** FrameType|CodecID, AVCPacketType, SI24 CompositionTime. Spec: FLV v10.1 §E.4.3.1. */
function legacyVideoHeader(frameType: number, codecId: number, packetType: number, cts: number): Buffer {
  const out = Buffer.allocUnsafe(5);
  out[0] = (frameType << 4) | codecId;
  out[1] = packetType;
  out.writeIntBE(cts, 2, 3);
  return out;
}

/** IsExHeader|FrameType|PacketType, FourCC, [SI24 CompositionTime]. Spec: Enhanced RTMP v1. */
function enhancedVideoHeader(frameType: number, packetType: number, cts?: number): Buffer {
  const out = Buffer.allocUnsafe(cts === undefined ? 5 : 8);
  out[0] = EX_HEADER_FLAG | (frameType << 4) | packetType;
  out.writeUInt32BE(FOURCC_HVC1, 1);
  if (cts !== undefined) out.writeIntBE(cts, 5, 3);
  return out;
}

function notReady(codec: string): GatewayError {
  return new GatewayError('INTERNAL', `FLV sequence header needs a ready ${codec} track`);
}
