import type { Codec } from './codec';

/**
 * A track as the hub sees it. A Track value is immutable: a new SPS (resolution change) makes a
 * new Track value with the same id. `ready` is true once the decoder config is complete.
 */
interface TrackBase {
  /** Stable within a stream: video is conventionally 0, audio 1. */
  readonly id: number;
  readonly ready: boolean;
}

export interface H264Track extends TrackBase {
  readonly codec: 'h264';
  /** Parameter sets without start codes; undefined until seen. */
  readonly sps?: Buffer;
  readonly pps?: Buffer;
  readonly width: number;
  readonly height: number;
  /** profile_idc, constraint flags byte and level_idc from the SPS. */
  readonly profile: number;
  readonly compatibility: number;
  readonly level: number;
}

export interface H265Track extends TrackBase {
  readonly codec: 'h265';
  readonly vps?: Buffer;
  readonly sps?: Buffer;
  readonly pps?: Buffer;
  readonly width: number;
  readonly height: number;
  readonly profile: number;
  readonly level: number;
}

export interface AacTrack extends TrackBase {
  readonly codec: 'aac';
  /** AudioSpecificConfig (ISO 14496-3 §1.6.2.1). */
  readonly asc?: Buffer;
  readonly sampleRate: number;
  readonly channels: number;
}

export interface G711Track extends TrackBase {
  readonly codec: 'g711a' | 'g711u';
  readonly sampleRate: 8000;
  readonly channels: 1;
}

export type VideoTrack = H264Track | H265Track;
export type AudioTrack = AacTrack | G711Track;
export type Track = VideoTrack | AudioTrack;

export function isVideoTrack(track: Track): track is VideoTrack {
  return track.codec === 'h264' || track.codec === 'h265';
}

export function isAudioTrack(track: Track): track is AudioTrack {
  return !isVideoTrack(track);
}

/** A track that has been announced (codec known) but whose config has not been seen yet. */
export function pendingTrack(id: number, codec: Codec): Track {
  switch (codec) {
    case 'h264':
      return { id, codec, ready: false, width: 0, height: 0, profile: 0, compatibility: 0, level: 0 };
    case 'h265':
      return { id, codec, ready: false, width: 0, height: 0, profile: 0, level: 0 };
    case 'aac':
      return { id, codec, ready: false, sampleRate: 0, channels: 0 };
    case 'g711a':
    case 'g711u':
      return { id, codec, ready: true, sampleRate: 8000, channels: 1 };
  }
}

/** Short human description: `h264 1280x720`, `aac 44100Hz 2ch`. */
export function describeTrack(track: Track): string {
  if (isVideoTrack(track)) return `${track.codec} ${track.width}x${track.height}`;
  return `${track.codec} ${track.sampleRate}Hz ${track.channels}ch`;
}
