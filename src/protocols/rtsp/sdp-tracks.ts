import type { Codec } from '../../core/codec';
import { ParseError } from '../../core/errors';
import { codecOfEncoding, createRtpTrack, staticRtpMap } from '../../../rtp/depacketize/track';
import type { MediaDescription, RtpMap, SessionDescription } from '../../formats/sdp/sdp';
import { resolveControl } from './url';

/**
 * Which SDP media the client plays. The hub takes one video and one audio track per stream:
 * the first supported of each kind is chosen. Codec parameters (sprop-parameter-sets, AAC
 * config) travel in `rtpMap.fmtp` to the rtp/ depacketizers, which read them.
 */

export interface TrackSpec {
  /** Index of the media in the SDP. */
  readonly mediaIndex: number;
  readonly kind: 'video' | 'audio';
  readonly codec: Codec;
  readonly payloadType: number;
  readonly clockRate: number;
  /** The absolute URL SETUP goes to. */
  readonly control: string;
  /** What `createRtpTrack` needs: encoding, clock rate, channels and the fmtp parameters. */
  readonly rtpMap: RtpMap;
}

export interface SkippedMedia {
  readonly mediaIndex: number;
  readonly type: string;
  readonly encoding: string;
  readonly reason: string;
}

export interface TrackSelection {
  readonly tracks: readonly TrackSpec[];
  readonly skipped: readonly SkippedMedia[];
}

export function selectTracks(sdp: SessionDescription, base: string): TrackSelection {
  const tracks: TrackSpec[] = [];
  const skipped: SkippedMedia[] = [];
  const sessionBase = sdp.control && /^rtsps?:\/\//i.test(sdp.control) ? sdp.control : base;
  sdp.media.forEach((media, mediaIndex) => {
    const result = describeMedia(media, mediaIndex, sessionBase);
    if ('reason' in result) {
      skipped.push(result);
      return;
    }
    if (tracks.some((t) => t.kind === result.kind)) {
      skipped.push({ mediaIndex, type: media.type, encoding: result.codec, reason: `a ${result.kind} track was already chosen` });
      return;
    }
    tracks.push(result);
  });
  return { tracks, skipped };
}

function describeMedia(media: MediaDescription, mediaIndex: number, base: string): TrackSpec | SkippedMedia {
  const payloadType = media.formats[0];
  if (payloadType === undefined) return { mediaIndex, type: media.type, encoding: '?', reason: 'no payload format' };
  const map = media.rtpmap.get(payloadType) ?? staticRtpMap(payloadType);
  if (!map) return { mediaIndex, type: media.type, encoding: `PT ${payloadType}`, reason: 'payload type without rtpmap' };
  const skip = (reason: string): SkippedMedia => ({ mediaIndex, type: media.type, encoding: map.encoding, reason });
  if (!/^RTP\/S?AVPF?$/i.test(media.protocol) && !/^RTP\/AVP\/TCP$/i.test(media.protocol)) return skip(`protocol ${media.protocol}`);
  const codec = codecOfEncoding(map.encoding);
  if (!codec) return skip(`codec ${map.encoding} is not carried (H.264, H.265, AAC, G.711 are)`);
  const fmtp = { ...media.fmtp.get(payloadType) };
  if (map.encoding.toUpperCase() === 'MPEG4-GENERIC') {
    const mode = (fmtp['mode'] ?? '').toLowerCase();
    if (mode !== 'aac-hbr' && mode !== 'aac-lbr') return skip(`mpeg4-generic mode "${mode}" is not AAC`);
  }
  if ((codec === 'g711a' || codec === 'g711u') && (map.clockRate !== 8000 || (map.channels ?? 1) !== 1)) {
    return skip(`G.711 at ${map.clockRate} Hz with ${map.channels ?? 1} channels`);
  }
  const rtpMap: RtpMap = { encoding: map.encoding, clockRate: map.clockRate, ...(map.channels !== undefined ? { channels: map.channels } : {}), fmtp };
  try {
    createRtpTrack(rtpMap);
  } catch (err) {
    if (err instanceof ParseError) return skip(`unusable parameters: ${err.message}`);
    throw err;
  }
  const kind = codec === 'h264' || codec === 'h265' ? 'video' : 'audio';
  return { mediaIndex, kind, codec, payloadType, clockRate: map.clockRate, control: resolveControl(base, media.control), rtpMap };
}

/** One line per codec: `video h264, audio aac` (for logs and the API). */
export function describeSelection(selection: TrackSelection): string {
  const parts = selection.tracks.map((t) => `${t.kind} ${t.codec}`);
  for (const s of selection.skipped) parts.push(`${s.type} ${s.encoding} skipped (${s.reason})`);
  return parts.join(', ');
}
