import { parseAudioSpecificConfig } from '../../codecs/aac/asc';
import type { Track } from '../../core/track';

/**
 * RFC 6381 codec strings for the CODECS attribute of EXT-X-STREAM-INF.
 * Spec: RFC 6381 §3.3; ISO/IEC 14496-15 Annex E (hvc1); RFC 8216 §4.3.4.2.
 */
export function codecString(track: Track): string | undefined {
  const hex = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');
  switch (track.codec) {
    case 'h264':
      return `avc1.${hex(track.profile)}${hex(track.compatibility)}${hex(track.level)}`;
    case 'h265': {
      // general_profile_compatibility_flags in reverse bit order: Main sets flags 1 and 2 (6).
      const compatibility = track.profile === 1 ? 6 : 1 << Math.min(track.profile, 31);
      return `hvc1.${track.profile}.${compatibility.toString(16)}.L${track.level}.B0`;
    }
    case 'aac': {
      let objectType = 2;
      try {
        if (track.asc) objectType = parseAudioSpecificConfig(track.asc).objectType;
      } catch {
        // keep AAC LC
      }
      return `mp4a.40.${objectType}`;
    }
    default:
      return undefined;
  }
}
