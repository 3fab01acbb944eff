import { ParseError, parseAssert } from '../../src/core/errors';
import type { RtpPacket } from '../packet';

/**
 * H.264 RTP payload (RFC 6184): single NAL unit packets, STAP-A (§5.7.1) and FU-A (§5.8), the
 * two packetization modes cameras and encoders use (0 and 1). STAP-B, MTAP and FU-B belong to
 * the interleaved mode and are refused with a ParseError.
 */

const STAP_A = 24;
const FU_A = 28;
/** One NAL unit reassembled from fragments may not exceed this. */
export const MAX_NAL_BYTES = 8 * 1024 * 1024;

export class H264Depacketizer {
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentTimestamp = 0;

  /**
   * NAL units completed by this packet (single NAL and STAP-A units are subarrays of the
   * packet; a reassembled FU-A unit is a new Buffer). Throws a ParseError on a bad payload.
   */
  push(packet: RtpPacket): Buffer[] {
    const payload = packet.payload;
    parseAssert(payload.length >= 1, 'empty H.264 RTP payload');
    parseAssert((payload[0]! & 0x80) === 0, 'H.264 forbidden_zero_bit set');
    const type = payload[0]! & 0x1f;
    if (type >= 1 && type <= 23) {
      this.dropFragments();
      return [payload];
    }
    if (type === STAP_A) {
      this.dropFragments();
      return splitAggregate(payload, 1);
    }
    if (type === FU_A) return this.fuA(packet);
    throw new ParseError(`H.264 RTP packet type ${type} is not supported (interleaved mode or reserved)`);
  }

  /** Forget a partial fragmented unit (after loss). */
  reset(): void {
    this.dropFragments();
  }

  private dropFragments(): void {
    this.fragments = [];
    this.fragmentBytes = 0;
  }

  private fuA(packet: RtpPacket): Buffer[] {
    const payload = packet.payload;
    parseAssert(payload.length >= 2, 'FU-A packet without FU header');
    const fuHeader = payload[1]!;
    const start = (fuHeader & 0x80) !== 0;
    const end = (fuHeader & 0x40) !== 0;
    const body = payload.subarray(2);
    if (start) {
      this.dropFragments();
      const header = Buffer.from([(payload[0]! & 0xe0) | (fuHeader & 0x1f)]);
      this.fragments.push(header);
      this.fragmentBytes = 1;
      this.fragmentTimestamp = packet.timestamp;
    } else if (this.fragments.length === 0 || packet.timestamp !== this.fragmentTimestamp) {
      // a middle or end fragment whose start we never saw
      this.dropFragments();
      return [];
    }
    this.fragmentBytes += body.length;
    if (this.fragmentBytes > MAX_NAL_BYTES) {
      this.dropFragments();
      throw new ParseError('FU-A unit larger than the cap');
    }
    this.fragments.push(body);
    if (!end) return [];
    const unit = Buffer.concat(this.fragments, this.fragmentBytes);
    this.dropFragments();
    return [unit];
  }
}

/**
 * Splits an aggregation payload made of 16-bit size + NAL unit entries after `skip` header
 * bytes (STAP-A: RFC 6184 §5.7.1; H.265 AP: RFC 7798 §4.4.2 without DONL).
 */
export function splitAggregate(payload: Buffer, skip: number): Buffer[] {
  const units: Buffer[] = [];
  let o = skip;
  while (o < payload.length) {
    parseAssert(o + 2 <= payload.length, 'aggregation unit size truncated');
    const size = payload.readUInt16BE(o);
    o += 2;
    parseAssert(size > 0 && o + size <= payload.length, `aggregation unit size ${size} runs past the packet`);
    units.push(payload.subarray(o, o + size));
    o += size;
  }
  parseAssert(units.length > 0, 'empty aggregation packet');
  return units;
}
