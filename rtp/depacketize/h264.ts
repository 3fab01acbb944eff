import { ParseError, parseAssert } from '../../src/core/errors';
import type { RtpPacket } from '../packet';
import { FragmentAssembler } from './fragments';

/**
 * H.264 RTP payload (RFC 6184): single NAL unit packets, STAP-A (§5.7.1) and FU-A (§5.8), the
 * two packetization modes cameras and encoders use (0 and 1). STAP-B, MTAP and FU-B belong to
 * the interleaved mode and are refused with a ParseError.
 */

const STAP_A = 24;
const FU_A = 28;

export class H264Depacketizer {
  private readonly fragments = new FragmentAssembler('FU-A');

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
      this.fragments.reset();
      return [payload];
    }
    if (type === STAP_A) {
      this.fragments.reset();
      return splitAggregate(payload, 1);
    }
    if (type === FU_A) return this.fuA(packet);
    throw new ParseError(`H.264 RTP packet type ${type} is not supported (interleaved mode or reserved)`);
  }

  /** Forget a partial fragmented unit (after loss). */
  reset(): void {
    this.fragments.reset();
  }

  private fuA(packet: RtpPacket): Buffer[] {
    const payload = packet.payload;
    parseAssert(payload.length >= 2, 'FU-A packet without FU header');
    const fuHeader = payload[1]!;
    const flags = { start: (fuHeader & 0x80) !== 0, end: (fuHeader & 0x40) !== 0 };
    const nalHeader = flags.start ? Buffer.from([(payload[0]! & 0xe0) | (fuHeader & 0x1f)]) : undefined;
    const unit = this.fragments.add(payload.subarray(2), packet.timestamp, flags, nalHeader);
    return unit ? [unit] : [];
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
