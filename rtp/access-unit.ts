import type { AudioCodec, VideoCodec } from '../src/core/codec';
import type { AdtsHeader } from '../src/codecs/aac/adts';

/**
 * What demuxers and depacketizers hand to the FrameAssembler: one access unit with absolute
 * source time in 90 kHz ticks (already unwrapped, not yet rebased or normalised).
 */

export interface VideoAccessUnit {
  readonly kind: 'video';
  readonly codec: VideoCodec;
  /** NAL units without start codes; may include parameter sets and AUDs. */
  readonly units: readonly Buffer[];
  readonly pts: number;
  readonly dts: number;
}

export interface AudioAccessUnit {
  readonly kind: 'audio';
  readonly codec: AudioCodec;
  /** One raw access unit. */
  readonly data: Buffer;
  readonly pts: number;
  /** AAC configuration, from the ADTS header it came with ... */
  readonly adts?: AdtsHeader;
  /** ... or from SDP (RFC 3640 `config=`, LATM StreamMuxConfig). */
  readonly asc?: Buffer;
}

export type AccessUnit = VideoAccessUnit | AudioAccessUnit;

export interface AccessUnitSink {
  /** A PSM/PMT (or SDP) announced these codecs; called again when it changes. */
  onDeclared?(declared: { video?: VideoCodec; audio?: AudioCodec }): void;
  onAccessUnit(au: AccessUnit): void;
}
