import { ParseError } from '../../core/errors';
import type { AacTrack } from '../../core/track';
import type { AdtsHeader } from './adts';
import { buildAudioSpecificConfig, parseAudioSpecificConfig, type AudioSpecificConfig } from './asc';

/**
 * An AAC Track value from an AudioSpecificConfig. Ready when the ASC parses (otherwise not
 * ready, rate and channels 0). Copies the Buffer. For explicit HE-AAC signalling the sample
 * rate is the output (extension) rate.
 */
export function aacTrack(id: number, asc: Buffer): AacTrack {
  let info: AudioSpecificConfig | undefined;
  try {
    info = parseAudioSpecificConfig(asc);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
  return {
    id,
    codec: 'aac',
    ready: info !== undefined,
    asc: Buffer.from(asc),
    sampleRate: info?.extensionSampleRate ?? info?.sampleRate ?? 0,
    channels: info?.channels ?? 0,
  };
}

/** An AAC Track value from an ADTS header (GB28181 PS, MPEG-TS, raw ADTS). */
export function aacTrackFromAdts(id: number, header: AdtsHeader): AacTrack {
  return aacTrack(id, buildAudioSpecificConfig({ objectType: header.objectType, sampleRate: header.sampleRate, channels: header.channels }));
}
