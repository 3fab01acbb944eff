import type { Codec } from '../../core/codec';
import { H264_NAL } from '../../codecs/h264/nal';
import { H265_NAL } from '../../codecs/h265/nal';
import type { MediaDescription, SessionDescription } from './sdp';
import { resolveControl } from './url';

/**
 * Which SDP media the client plays, and the codec parameters each carries. The hub takes one
 * video and one audio track per stream: the first supported of each kind is chosen.
 */

export interface AacGenericParams {
  readonly kind: 'generic';
  /** AudioSpecificConfig from `config=` (hex). */
  readonly asc?: Buffer;
  /** Spec: RFC 3640 §3.2.1 (AU-header field widths; AAC-hbr uses 13/3/3). */
  readonly sizeLength: number;
  readonly indexLength: number;
  readonly indexDeltaLength: number;
}

export interface AacLatmParams {
  readonly kind: 'latm';
  /** StreamMuxConfig from `config=` (hex) when `cpresent=0`. Spec: RFC 6416 §7.3. */
  readonly streamMuxConfig?: Buffer;
  /** The StreamMuxConfig is in-band. */
  readonly cpresent: boolean;
}

export interface TrackSpec {
  /** Index of the media in the SDP. */
  readonly mediaIndex: number;
  readonly kind: 'video' | 'audio';
  readonly codec: Codec;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly channels?: number;
  /** The absolute URL SETUP goes to. */
  readonly control: string;
  /** Parameter sets from the SDP (sprop-parameter-sets, sprop-vps/sps/pps), without start codes. */
  readonly parameterSets?: readonly Buffer[];
  readonly aac?: AacGenericParams | AacLatmParams;
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

/** Static payload types a camera may use without an rtpmap. Spec: RFC 3551 §6 Table 4. */
const STATIC_PAYLOAD_TYPES: Readonly<Record<number, { encoding: string; clockRate: number; channels?: number }>> = {
  0: { encoding: 'PCMU', clockRate: 8000, channels: 1 },
  8: { encoding: 'PCMA', clockRate: 8000, channels: 1 },
};

const MAX_PARAMETER_SETS = 16;

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
  const map = media.rtpmap.get(payloadType) ?? STATIC_PAYLOAD_TYPES[payloadType];
  if (!map) return { mediaIndex, type: media.type, encoding: `PT ${payloadType}`, reason: 'payload type without rtpmap' };
  if (!/^RTP\/S?AVPF?$/i.test(media.protocol) && !/^RTP\/AVP\/TCP$/i.test(media.protocol)) {
    return { mediaIndex, type: media.type, encoding: map.encoding, reason: `protocol ${media.protocol}` };
  }
  const fmtp = media.fmtp.get(payloadType) ?? new Map<string, string>();
  const common = { mediaIndex, payloadType, clockRate: map.clockRate, control: resolveControl(base, media.control) };
  const withChannels = map.channels === undefined ? common : { ...common, channels: map.channels };
  const encoding = map.encoding.toUpperCase();
  switch (encoding) {
    case 'H264':
      return { ...withChannels, kind: 'video', codec: 'h264', parameterSets: h264ParameterSets(fmtp) };
    case 'H265':
    case 'HEVC':
      return { ...withChannels, kind: 'video', codec: 'h265', parameterSets: h265ParameterSets(fmtp) };
    case 'MPEG4-GENERIC': {
      const mode = (fmtp.get('mode') ?? '').toLowerCase();
      if (mode !== 'aac-hbr' && mode !== 'aac-lbr') {
        return { mediaIndex, type: media.type, encoding: map.encoding, reason: `mpeg4-generic mode "${mode}" is not AAC` };
      }
      const asc = hexBytes(fmtp.get('config'));
      const aac: AacGenericParams = {
        kind: 'generic',
        ...(asc ? { asc } : {}),
        sizeLength: smallInt(fmtp.get('sizelength'), mode === 'aac-hbr' ? 13 : 6),
        indexLength: smallInt(fmtp.get('indexlength'), mode === 'aac-hbr' ? 3 : 2),
        indexDeltaLength: smallInt(fmtp.get('indexdeltalength'), mode === 'aac-hbr' ? 3 : 2),
      };
      return { ...withChannels, kind: 'audio', codec: 'aac', aac };
    }
    case 'MP4A-LATM': {
      const cpresent = (fmtp.get('cpresent') ?? '1') !== '0';
      const config = hexBytes(fmtp.get('config'));
      const aac: AacLatmParams = { kind: 'latm', cpresent, ...(config ? { streamMuxConfig: config } : {}) };
      return { ...withChannels, kind: 'audio', codec: 'aac', aac };
    }
    case 'PCMA':
    case 'PCMU':
      if (map.clockRate !== 8000) return { mediaIndex, type: media.type, encoding: map.encoding, reason: `G.711 at ${map.clockRate} Hz` };
      if ((map.channels ?? 1) !== 1) return { mediaIndex, type: media.type, encoding: map.encoding, reason: `G.711 with ${map.channels} channels` };
      return { ...withChannels, kind: 'audio', codec: encoding === 'PCMA' ? 'g711a' : 'g711u' };
    default:
      return { mediaIndex, type: media.type, encoding: map.encoding, reason: `codec ${map.encoding} is not carried (H.264, H.265, AAC, G.711 are)` };
  }
}

/** Spec: RFC 6184 §8.1 (sprop-parameter-sets: base64 NAL units separated by commas). */
function h264ParameterSets(fmtp: ReadonlyMap<string, string>): Buffer[] {
  const out: Buffer[] = [];
  for (const unit of base64List(fmtp.get('sprop-parameter-sets'))) {
    const type = unit[0]! & 0x1f;
    if (type === H264_NAL.SPS || type === H264_NAL.PPS) out.push(unit);
  }
  return out;
}

/** Spec: RFC 7798 §7.1 (sprop-vps, sprop-sps, sprop-pps). */
function h265ParameterSets(fmtp: ReadonlyMap<string, string>): Buffer[] {
  const out: Buffer[] = [];
  const wanted: readonly [string, number][] = [['sprop-vps', H265_NAL.VPS], ['sprop-sps', H265_NAL.SPS], ['sprop-pps', H265_NAL.PPS]];
  for (const [key, type] of wanted) {
    for (const unit of base64List(fmtp.get(key))) if (((unit[0]! >> 1) & 0x3f) === type) out.push(unit);
  }
  return out;
}

function base64List(value: string | undefined): Buffer[] {
  if (!value) return [];
  const out: Buffer[] = [];
  for (const part of value.split(',')) {
    const text = part.trim();
    if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) continue;
    const unit = Buffer.from(text, 'base64');
    if (unit.length >= 2 && (unit[0]! & 0x80) === 0) out.push(unit);
    if (out.length >= MAX_PARAMETER_SETS) break;
  }
  return out;
}

function hexBytes(value: string | undefined): Buffer | undefined {
  if (!value || !/^([0-9A-Fa-f]{2}){1,64}$/.test(value)) return undefined;
  return Buffer.from(value, 'hex');
}

function smallInt(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^\d{1,2}$/.test(value.trim())) return fallback;
  const n = Number(value);
  return n <= 32 ? n : fallback;
}

/** One line per codec: `video h264, audio aac` (for logs and the API). */
export function describeSelection(selection: TrackSelection): string {
  const parts = selection.tracks.map((t) => `${t.kind} ${t.codec}`);
  for (const s of selection.skipped) parts.push(`${s.type} ${s.encoding} skipped (${s.reason})`);
  return parts.join(', ');
}
