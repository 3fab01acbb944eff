import { ParseError, parseAssert } from '../../src/core/errors';
import type { RtpPacket } from '../packet';
import { splitAggregate } from './h264';
import { FragmentAssembler } from './fragments';

/**
 * H.265 RTP payload (RFC 7798) with sprop-max-don-diff 0 (no DONL fields, the only mode
 * cameras use): single NAL unit packets, aggregation packets (type 48, §4.4.2) and
 * fragmentation units (type 49, §4.4.3). PACI (50) is refused with a ParseError.
 */

const AP = 48;
const FU = 49;

export class H265Depacketizer {
  private readonly fragments = new FragmentAssembler('H.265 FU');

  /** NAL units completed by this packet. Throws a ParseError on a bad payload. */
  push(packet: RtpPacket): Buffer[] {
    const payload = packet.payload;
    parseAssert(payload.length >= 3, 'H.265 RTP payload shorter than a NAL header');
    parseAssert((payload[0]! & 0x80) === 0, 'H.265 forbidden_zero_bit set');
    const type = (payload[0]! >> 1) & 0x3f;
    if (type < AP) {
      this.fragments.reset();
      return [payload];
    }
    if (type === AP) {
      this.fragments.reset();
      return splitAggregate(payload, 2);
    }
    if (type === FU) return this.fu(packet);
    throw new ParseError(`H.265 RTP packet type ${type} is not supported`);
  }

  reset(): void {
    this.fragments.reset();
  }

  private fu(packet: RtpPacket): Buffer[] {
    const payload = packet.payload;
    const fuHeader = payload[2]!;
    const flags = { start: (fuHeader & 0x80) !== 0, end: (fuHeader & 0x40) !== 0 };
    // Rebuild the 2-byte NAL header: the payload header with the FU type replaced.
    const nalHeader = flags.start ? Buffer.from([(payload[0]! & 0x81) | ((fuHeader & 0x3f) << 1), payload[1]!]) : undefined;
    const unit = this.fragments.add(payload.subarray(3), packet.timestamp, flags, nalHeader);
    return unit ? [unit] : [];
  }
}
