import { ParseError } from '../../core/errors';
import type { H265Track } from '../../core/track';
import { sameBytes } from '../h264/track';
import { parseH265Sps, type H265SpsInfo } from './sps';

/**
 * An H.265 Track value. Ready when VPS, SPS and PPS are present and the SPS parses; an SPS that
 * does not parse leaves it not ready. Copies the Buffers it keeps.
 */
export function h265Track(id: number, vps?: Buffer, sps?: Buffer, pps?: Buffer): H265Track {
  const info = sps ? tryParse(sps) : undefined;
  return {
    id,
    codec: 'h265',
    ready: info !== undefined && vps !== undefined && vps.length > 0 && pps !== undefined && pps.length > 0,
    ...(vps ? { vps: Buffer.from(vps) } : {}),
    ...(sps ? { sps: Buffer.from(sps) } : {}),
    ...(pps ? { pps: Buffer.from(pps) } : {}),
    width: info?.width ?? 0,
    height: info?.height ?? 0,
    profile: info?.profile ?? 0,
    level: info?.level ?? 0,
  };
}

/** True if `track` already holds exactly these parameter sets (no new Track value needed). */
export function h265TrackHas(track: H265Track, vps?: Buffer, sps?: Buffer, pps?: Buffer): boolean {
  return sameBytes(track.vps, vps) && sameBytes(track.sps, sps) && sameBytes(track.pps, pps);
}

function tryParse(sps: Buffer): H265SpsInfo | undefined {
  try {
    return parseH265Sps(sps);
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}
