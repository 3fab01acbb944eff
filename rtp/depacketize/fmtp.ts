import { parseAssert } from '../../src/core/errors';
import type { RtpMap } from '../../src/formats/sdp/sdp';

/**
 * Reading the fmtp parameters of an RtpMap (the SDP-derived parameters of one RTP stream, as the
 * RTSP client or a GB28181 INVITE answer hands them over; parsed by src/formats/sdp).
 */

export function fmtpValue(map: RtpMap, key: string): string | undefined {
  if (!map.fmtp) return undefined;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(map.fmtp)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function fmtpInt(map: RtpMap, key: string, fallback: number): number {
  const v = fmtpValue(map, key);
  if (v === undefined || v === '') return fallback;
  const n = Number.parseInt(v, 10);
  parseAssert(Number.isInteger(n) && n >= 0 && n <= 64, `fmtp ${key}=${v} is not a small integer`);
  return n;
}

export function hexToBuffer(hex: string): Buffer {
  parseAssert(/^([0-9a-fA-F]{2})*$/.test(hex), `bad hex string in fmtp`);
  return Buffer.from(hex, 'hex');
}

/** `sprop-parameter-sets` (H.264) or `sprop-vps/sps/pps` (H.265): base64 NAL units. */
export function spropUnits(value: string | undefined): Buffer[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => Buffer.from(s.trim(), 'base64'))
    .filter((b) => b.length > 0);
}
