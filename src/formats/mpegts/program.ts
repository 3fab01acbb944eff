import { parseAudioSpecificConfig } from '../../codecs/aac/asc';
import type { AdtsConfig } from '../../codecs/aac/adts';
import { errorMessage } from '../../core/errors';
import type { Codec } from '../../core/codec';
import type { Track } from '../../core/track';
import { PID_AUDIO, PID_VIDEO, STREAM_ID_AUDIO, STREAM_ID_VIDEO, STREAM_TYPE } from './constants';

/** One track as carried in the transport stream. */
export interface TsStream {
  readonly trackId: number;
  readonly codec: Codec;
  readonly kind: 'video' | 'audio';
  readonly pid: number;
  readonly streamType: number;
  readonly streamId: number;
  readonly track: Track;
  /** AAC only: what each frame's ADTS header says. */
  readonly adts?: AdtsConfig;
}

/** A track left out of the transport stream, and why. */
export interface SkippedTrack {
  readonly trackId: number;
  readonly codec: Codec;
  readonly reason: string;
}

export interface TsProgramLayout {
  readonly streams: readonly TsStream[];
  readonly skipped: readonly SkippedTrack[];
  /** Identity of codecs and decoder configs: equal keys need no new PMT or discontinuity. */
  readonly key: string;
}

/**
 * Which tracks go into the TS, on which PIDs: the first video track (H.264 or H.265) and the
 * first AAC track. G.711 has no stream type that HLS players accept, so it is left out
 * (ISO/IEC 13818-1 has no G.711 stream_type; the 0x90/0x91 of GB28181 PS are private).
 */
export function layoutProgram(tracks: readonly Track[]): TsProgramLayout {
  const streams: TsStream[] = [];
  const skipped: SkippedTrack[] = [];
  for (const track of tracks) {
    const taken = streams.some((s) => s.kind === (track.codec === 'h264' || track.codec === 'h265' ? 'video' : 'audio'));
    if (track.codec === 'h264' || track.codec === 'h265') {
      if (taken) skipped.push({ trackId: track.id, codec: track.codec, reason: 'a second video track' });
      else {
        const streamType = track.codec === 'h264' ? STREAM_TYPE.H264 : STREAM_TYPE.H265;
        streams.push({ trackId: track.id, codec: track.codec, kind: 'video', pid: PID_VIDEO, streamType, streamId: STREAM_ID_VIDEO, track });
      }
    } else if (track.codec === 'aac') {
      if (taken) {
        skipped.push({ trackId: track.id, codec: track.codec, reason: 'a second audio track' });
        continue;
      }
      try {
        const adts = adtsConfigOf(track.asc);
        streams.push({ trackId: track.id, codec: 'aac', kind: 'audio', pid: PID_AUDIO, streamType: STREAM_TYPE.AAC_ADTS, streamId: STREAM_ID_AUDIO, track, adts });
      } catch (err) {
        skipped.push({ trackId: track.id, codec: track.codec, reason: errorMessage(err) });
      }
    } else {
      skipped.push({ trackId: track.id, codec: track.codec, reason: 'G.711 is not playable in MPEG-TS/HLS players' });
    }
  }
  streams.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'video' ? -1 : 1));
  return { streams, skipped, key: streams.map(streamKey).join('|') };
}

/**
 * The ADTS fields for an AudioSpecificConfig. Explicit HE-AAC (object type 5 or 29) is sent as
 * its AAC LC core, the way ADTS signals SBR implicitly. Throws a ParseError for object types
 * ADTS cannot carry.
 */
export function adtsConfigOf(asc: Buffer | undefined): AdtsConfig {
  if (!asc) throw new RangeError('AAC track without an AudioSpecificConfig');
  const config = parseAudioSpecificConfig(asc);
  const explicitSbr = config.objectType === 5 || config.objectType === 29;
  const objectType = explicitSbr ? (config.coreObjectType ?? 2) : config.objectType;
  if (objectType < 1 || objectType > 4) throw new RangeError(`AAC object type ${objectType} cannot be carried in ADTS`);
  if (config.sampleRateIndex > 12) throw new RangeError('AAC with an explicit sample rate cannot be carried in ADTS');
  return { objectType, sampleRateIndex: config.sampleRateIndex, channels: config.channelConfiguration };
}

function streamKey(stream: TsStream): string {
  const t = stream.track;
  const hex = (b: Buffer | undefined): string => b?.toString('hex') ?? '';
  switch (t.codec) {
    case 'h264':
      return `${t.id}:h264:${hex(t.sps)}:${hex(t.pps)}`;
    case 'h265':
      return `${t.id}:h265:${hex(t.vps)}:${hex(t.sps)}:${hex(t.pps)}`;
    case 'aac':
      return `${t.id}:aac:${hex(t.asc)}`;
    default:
      return `${t.id}:${t.codec}`;
  }
}
