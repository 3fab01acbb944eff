import { randomInt } from 'node:crypto';
import type { Frame } from '../../core/frame';
import type { Track } from '../../core/track';
import type { FeedKey } from '../../core/sink';
import type { SdpMediaOut } from '../../formats/sdp/write';
import { packetizeH264, packetizeH265, DEFAULT_MAX_PAYLOAD, type RtpPayload } from '../../../rtp/packetize/video';
import { AAC_HBR_FMTP, packetizeAac, packetizeG711 } from '../../../rtp/packetize/audio';
import { RtpPacketWriter } from '../../../rtp/packetize/writer';

/**
 * What the RTSP server offers for one hub track: its SDP m= section and an RTP sender that
 * turns the track's frames into packets. Spec: RFC 6184 §8.1, RFC 7798 §7.1, RFC 3640 §4.1.
 */
export interface ServedTrack {
  readonly track: Track;
  readonly control: string;
  readonly sdp: SdpMediaOut;
  readonly clockRate: number;
  readonly writer: RtpPacketWriter;
}

const DYNAMIC_PT = 96;

function b64(buf: Buffer | undefined): string {
  return buf ? buf.toString('base64') : '';
}

function mediaOf(track: Track, payloadType: number, control: string): { sdp: SdpMediaOut; clockRate: number; payloadType: number } {
  const base = { protocol: 'RTP/AVP', control };
  switch (track.codec) {
    case 'h264': {
      const profile = track.sps && track.sps.length >= 4 ? track.sps.subarray(1, 4).toString('hex') : '42e01f';
      const fmtp = `packetization-mode=1;profile-level-id=${profile};sprop-parameter-sets=${b64(track.sps)},${b64(track.pps)}`;
      return { sdp: { ...base, type: 'video', payloadType, rtpmap: 'H264/90000', fmtp }, clockRate: 90000, payloadType };
    }
    case 'h265': {
      const fmtp = `sprop-vps=${b64(track.vps)};sprop-sps=${b64(track.sps)};sprop-pps=${b64(track.pps)}`;
      return { sdp: { ...base, type: 'video', payloadType, rtpmap: 'H265/90000', fmtp }, clockRate: 90000, payloadType };
    }
    case 'aac': {
      const fmtp = `${AAC_HBR_FMTP};config=${track.asc ? track.asc.toString('hex') : ''}`;
      return { sdp: { ...base, type: 'audio', payloadType, rtpmap: `MPEG4-GENERIC/${track.sampleRate}/${track.channels}`, fmtp }, clockRate: track.sampleRate, payloadType };
    }
    case 'g711a':
      return { sdp: { ...base, type: 'audio', payloadType: 8, rtpmap: 'PCMA/8000' }, clockRate: 8000, payloadType: 8 };
    case 'g711u':
      return { sdp: { ...base, type: 'audio', payloadType: 0, rtpmap: 'PCMU/8000' }, clockRate: 8000, payloadType: 0 };
  }
}

export function serveTracks(tracks: readonly Track[]): ServedTrack[] {
  return tracks.map((track, index) => {
    const control = `trackID=${track.id}`;
    const m = mediaOf(track, DYNAMIC_PT + index, control);
    return { track, control, sdp: m.sdp, clockRate: m.clockRate, writer: new RtpPacketWriter(randomInt(1, 0xffffffff), m.payloadType, randomInt(0, 0xffff)) };
  });
}

/** One RTP payload of a frame, `offset` samples after the frame's timestamp (G.711 split in pieces; else 0). */
export interface FramePayload extends RtpPayload {
  readonly offset: number;
}

/** The RTP payloads of one frame of `track`, the part of its packets every viewer shares. */
export function framePayloads(track: Track, frame: Frame, maxPayload = DEFAULT_MAX_PAYLOAD): readonly FramePayload[] {
  const whole = (p: RtpPayload): FramePayload => ({ payload: p.payload, marker: p.marker, offset: 0 });
  switch (track.codec) {
    case 'h264':
      return packetizeH264(withParameterSets(track, frame), maxPayload).map(whole);
    case 'h265':
      return packetizeH265(withParameterSets(track, frame), maxPayload).map(whole);
    case 'aac':
      return frame.units.flatMap((unit) => packetizeAac(unit, maxPayload)).map(whole);
    default:
      return frame.units.flatMap((unit) => packetizeG711(unit, maxPayload));
  }
}

/** A frame's pts in the track's RTP clock. */
export function rtpTimestamp(served: ServedTrack, frame: Frame): number {
  return Math.round((frame.pts * served.clockRate) / 90000) >>> 0;
}

/**
 * The RTP payloads of a stream, packetized once per frame and shared by all its RTSP viewers
 * (hub rule 9); each viewer writes only its own 12-byte headers (SSRC, sequence) beside them.
 * Kept weakly by frame, so the GOP cache replayed to joiners is packetized once. A viewer whose
 * track is not the one a frame was packetized for (it was described before an SPS change, and
 * puts its own parameter sets in band) gets its own payloads.
 */
export class RtpPayloadCache {
  static readonly FEED: FeedKey<RtpPayloadCache> = { name: 'rtp-payloads', create: () => new RtpPayloadCache() };
  private readonly byFrame = new WeakMap<Frame, { track: Track; payloads: readonly FramePayload[] }>();

  payloads(track: Track, frame: Frame): readonly FramePayload[] {
    const hit = this.byFrame.get(frame);
    if (hit?.track === track) return hit.payloads;
    const payloads = framePayloads(track, frame);
    if (!hit) this.byFrame.set(frame, { track, payloads });
    return payloads;
  }
}

/**
 * A keyframe's units with the track's parameter sets in front when the frame does not carry
 * them (RTMP and FLV sources keep them out of band): the SDP's sprop sets are stale once the
 * source changes resolution mid-session, and a player that lost packets recovers at the next
 * keyframe only if it carries them. Spec: RFC 6184 §8.4, RFC 7798 §7.2 (in-band parameter sets).
 */
export function withParameterSets(track: Track, frame: Frame): readonly Buffer[] {
  if (!frame.keyframe) return frame.units;
  const sets = track.codec === 'h264' ? [track.sps, track.pps] : track.codec === 'h265' ? [track.vps, track.sps, track.pps] : [];
  const missing = sets.filter((set): set is Buffer => set !== undefined && !frame.units.some((unit) => unit.equals(set)));
  return missing.length === 0 ? frame.units : [...missing, ...frame.units];
}
