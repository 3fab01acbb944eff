import { ParseError } from '../../core/errors';
import type { H264Track } from '../../core/track';
import { parseH264Sps, type H264SpsInfo } from './sps';

/**
 * An H.264 Track value. Ready when both parameter sets are present and the SPS parses; an SPS
 * that does not parse leaves the track not ready (and sizes at 0). Copies the Buffers it keeps,
 * so callers may pass subarrays of packets.
 */
export function h264Track(id: number, sps?: Buffer, pps?: Buffer): H264Track {
  const info = sps ? tryParse(sps) : undefined;
  return {
    id,
    codec: 'h264',
    ready: info !== undefined && pps !== undefined && pps.length > 0,
    ...(sps ? { sps: Buffer.from(sps) } : {}),
    ...(pps ? { pps: Buffer.from(pps) } : {}),
    width: info?.width ?? 0,
    height: info?.height ?? 0,
    profile: info?.profile ?? 0,
    compatibility: info?.compatibility ?? 0,
    level: info?.level ?? 0,
  };
}

/** True if `track` already holds exactly these parameter sets (no new Track value needed). */
export function h264TrackHas(track: H264Track, sps?: Buffer, pps?: Buffer): boolean {
  return sameBytes(track.sps, sps) && sameBytes(track.pps, pps);
}

function tryParse(sps: Buffer): H264SpsInfo | undefined {
  try {
    return parseH264Sps(sps);
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}

export function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.equals(b);
}
