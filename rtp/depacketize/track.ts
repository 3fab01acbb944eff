import type { AudioCodec, VideoCodec } from '../../src/core/codec';
import { ParseError } from '../../src/core/errors';
import { WrapUnwrapper, toHubTicks } from '../../src/core/time';
import type { AccessUnit, AudioAccessUnit, VideoAccessUnit } from '../access-unit';
import type { RtpPacket } from '../packet';
import { LatmDepacketizer, Rfc3640Depacketizer, type AudioDepacketizer } from './aac';
import type { RtpMap } from '../../src/formats/sdp/sdp';
import { fmtpValue, spropUnits } from './fmtp';
import { G711Depacketizer } from './g711';
import { H264Depacketizer } from './h264';
import { H265Depacketizer } from './h265';

/**
 * One RTP elementary stream (what an SDP media line describes) turned into access units with
 * 90 kHz times: the depacketizer, access-unit grouping (by timestamp, closed by the marker or
 * the next timestamp), whole-frame drop after loss, 32-bit timestamp unwrap and clock-rate
 * conversion. Used by the RTSP client and by GB28181 elementary-stream payload types.
 */

export interface RtpTrackStats {
  accessUnits: number;
  /** Access units dropped because packets of theirs were lost. */
  droppedAccessUnits: number;
  /** Payloads that failed to parse. */
  errors: number;
}

export interface RtpEsTrack {
  readonly kind: 'video' | 'audio';
  readonly codec: VideoCodec | AudioCodec;
  readonly stats: RtpTrackStats;
  /** Feeds one packet in sequence order; `discontinuity` when packets before it were lost. */
  push(packet: RtpPacket, discontinuity: boolean): AccessUnit[];
  /** End of stream: the access unit in progress, if any. */
  flush(): AccessUnit[];
}

/** Which hub codec an rtpmap encoding name carries, or undefined if we do not carry it. */
export function codecOfEncoding(encoding: string): VideoCodec | AudioCodec | undefined {
  switch (encoding.toUpperCase()) {
    case 'H264':
      return 'h264';
    case 'H265':
    case 'HEVC':
      return 'h265';
    case 'MPEG4-GENERIC':
    case 'MP4A-LATM':
      return 'aac';
    case 'PCMA':
      return 'g711a';
    case 'PCMU':
      return 'g711u';
    default:
      return undefined;
  }
}

/** Builds the track for an rtpmap; throws a ParseError for encodings we do not carry. */
export function createRtpTrack(map: RtpMap): RtpEsTrack {
  const encoding = map.encoding.toUpperCase();
  switch (encoding) {
    case 'H264':
      return new RtpVideoTrack('h264', map);
    case 'H265':
    case 'HEVC':
      return new RtpVideoTrack('h265', map);
    case 'MPEG4-GENERIC':
      return new RtpAudioTrack('aac', map, new Rfc3640Depacketizer(map));
    case 'MP4A-LATM':
      return new RtpAudioTrack('aac', map, new LatmDepacketizer(map));
    case 'PCMA':
    case 'PCMU':
      return new RtpAudioTrack(encoding === 'PCMA' ? 'g711a' : 'g711u', map, new G711Depacketizer());
    default:
      throw new ParseError(`RTP encoding ${map.encoding} is not supported`);
  }
}

/** The rtpmap of a static payload type (RFC 3551 §6), for senders that omit `a=rtpmap`. */
export function staticRtpMap(payloadType: number): RtpMap | undefined {
  if (payloadType === 0) return { encoding: 'PCMU', clockRate: 8000, channels: 1 };
  if (payloadType === 8) return { encoding: 'PCMA', clockRate: 8000, channels: 1 };
  return undefined;
}

/** One access unit may not hold more than this many NAL units / bytes. */
const MAX_UNITS = 1024;
const MAX_AU_BYTES = 16 * 1024 * 1024;

export class RtpVideoTrack implements RtpEsTrack {
  readonly kind = 'video';
  readonly stats: RtpTrackStats = { accessUnits: 0, droppedAccessUnits: 0, errors: 0 };
  private readonly depacketizer: H264Depacketizer | H265Depacketizer;
  private readonly clock = new WrapUnwrapper(32);
  private readonly clockRate: number;
  private parameterSets: Buffer[];
  private units: Buffer[] = [];
  private bytes = 0;
  private timestamp: number | undefined;
  private skipTimestamp: number | undefined;

  constructor(
    readonly codec: VideoCodec,
    map: RtpMap,
  ) {
    this.clockRate = map.clockRate || 90_000;
    this.depacketizer = codec === 'h264' ? new H264Depacketizer() : new H265Depacketizer();
    this.parameterSets =
      codec === 'h264'
        ? spropUnits(fmtpValue(map, 'sprop-parameter-sets'))
        : [...spropUnits(fmtpValue(map, 'sprop-vps')), ...spropUnits(fmtpValue(map, 'sprop-sps')), ...spropUnits(fmtpValue(map, 'sprop-pps'))];
  }

  push(packet: RtpPacket, discontinuity: boolean): AccessUnit[] {
    const out: AccessUnit[] = [];
    if (discontinuity) {
      // Whatever was in progress, and the picture the next packet belongs to, may miss packets.
      if (this.units.length > 0) this.stats.droppedAccessUnits++;
      this.clear();
      this.depacketizer.reset();
      this.skipTimestamp = packet.timestamp;
    }
    if (this.skipTimestamp !== undefined) {
      if (packet.timestamp === this.skipTimestamp) return out;
      this.skipTimestamp = undefined;
      this.depacketizer.reset();
    }
    if (this.timestamp !== undefined && packet.timestamp !== this.timestamp && this.units.length > 0) {
      this.emit(out);
    }
    this.timestamp = packet.timestamp;
    let units: Buffer[];
    try {
      units = this.depacketizer.push(packet);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.stats.errors++;
      if (this.units.length > 0) this.stats.droppedAccessUnits++;
      this.clear();
      this.skipTimestamp = packet.timestamp;
      return out;
    }
    for (const unit of units) {
      this.units.push(unit);
      this.bytes += unit.length;
    }
    if (this.units.length > MAX_UNITS || this.bytes > MAX_AU_BYTES) {
      this.stats.droppedAccessUnits++;
      this.clear();
      this.skipTimestamp = packet.timestamp;
    } else if (packet.marker && this.units.length > 0) {
      this.emit(out);
    }
    return out;
  }

  flush(): AccessUnit[] {
    const out: AccessUnit[] = [];
    if (this.units.length > 0) this.emit(out);
    return out;
  }

  private clear(): void {
    this.units = [];
    this.bytes = 0;
  }

  /** Copies the units into one Buffer owned by the access unit (the packets are released). */
  private emit(out: AccessUnit[]): void {
    let units = this.units;
    let bytes = this.bytes;
    if (this.parameterSets.length > 0) {
      // SDP parameter sets go in front of the first access unit (the track learns them there).
      units = [...this.parameterSets, ...units];
      for (const p of this.parameterSets) bytes += p.length;
      this.parameterSets = [];
    }
    const frame = Buffer.allocUnsafe(bytes);
    const views: Buffer[] = [];
    let o = 0;
    for (const unit of units) {
      unit.copy(frame, o);
      views.push(frame.subarray(o, o + unit.length));
      o += unit.length;
    }
    this.clear();
    const pts = toHubTicks(this.clock.unwrap(this.timestamp!), this.clockRate);
    this.stats.accessUnits++;
    const au: VideoAccessUnit = { kind: 'video', codec: this.codec, units: views, pts, dts: pts };
    out.push(au);
  }
}

export class RtpAudioTrack implements RtpEsTrack {
  readonly kind = 'audio';
  readonly stats: RtpTrackStats = { accessUnits: 0, droppedAccessUnits: 0, errors: 0 };
  private readonly clock = new WrapUnwrapper(32);
  private readonly clockRate: number;

  constructor(
    readonly codec: AudioCodec,
    map: RtpMap,
    private readonly depacketizer: AudioDepacketizer,
  ) {
    this.clockRate = map.clockRate || 8000;
  }

  push(packet: RtpPacket, discontinuity: boolean): AccessUnit[] {
    if (discontinuity) this.depacketizer.reset();
    let units;
    try {
      units = this.depacketizer.push(packet);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.stats.errors++;
      this.depacketizer.reset();
      return [];
    }
    const asc = this.depacketizer.asc;
    return units.map((u) => {
      this.stats.accessUnits++;
      const au: AudioAccessUnit = {
        kind: 'audio',
        codec: this.codec,
        data: u.data,
        pts: toHubTicks(this.clock.unwrap(u.timestamp), this.clockRate),
        ...(asc ? { asc } : {}),
      };
      return au;
    });
  }

  flush(): AccessUnit[] {
    return [];
  }
}
