import { ParseError, parseAssert } from '../../src/core/errors';
import type { RtpPacket } from '../packet';
import { MAX_NAL_BYTES, splitAggregate } from './h264';

/**
 * H.265 RTP payload (RFC 7798) with sprop-max-don-diff 0 (no DONL fields, the only mode
 * cameras use): single NAL unit packets, aggregation packets (type 48, §4.4.2) and
 * fragmentation units (type 49, §4.4.3). PACI (50) is refused with a ParseError.
 */

const AP = 48;
const FU = 49;

export class H265Depacketizer {
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentTimestamp = 0;

  /** NAL units completed by this packet. Throws a ParseError on a bad payload. */
  push(packet: RtpPacket): Buffer[] {
    const payload = packet.payload;
    parseAssert(payload.length >= 3, 'H.265 RTP payload shorter than a NAL header');
    parseAssert((payload[0]! & 0x80) === 0, 'H.265 forbidden_zero_bit set');
    const type = (payload[0]! >> 1) & 0x3f;
    if (type < AP) {
      this.dropFragments();
      return [payload];
    }
    if (type === AP) {
      this.dropFragments();
      return splitAggregate(payload, 2);
    }
    if (type === FU) return this.fu(packet);
    throw new ParseError(`H.265 RTP packet type ${type} is not supported`);
  }

  reset(): void {
    this.dropFragments();
  }

  private dropFragments(): void {
    this.fragments = [];
    this.fragmentBytes = 0;
  }

  private fu(packet: RtpPacket): Buffer[] {
    const payload = packet.payload;
    const fuHeader = payload[2]!;
    const start = (fuHeader & 0x80) !== 0;
    const end = (fuHeader & 0x40) !== 0;
    const body = payload.subarray(3);
    if (start) {
      this.dropFragments();
      // Rebuild the 2-byte NAL header: the payload header with the FU type replaced.
      const header = Buffer.from([(payload[0]! & 0x81) | ((fuHeader & 0x3f) << 1), payload[1]!]);
      this.fragments.push(header);
      this.fragmentBytes = 2;
      this.fragmentTimestamp = packet.timestamp;
    } else if (this.fragments.length === 0 || packet.timestamp !== this.fragmentTimestamp) {
      this.dropFragments();
      return [];
    }
    this.fragmentBytes += body.length;
    if (this.fragmentBytes > MAX_NAL_BYTES) {
      this.dropFragments();
      throw new ParseError('H.265 FU unit larger than the cap');
    }
    this.fragments.push(body);
    if (!end) return [];
    const unit = Buffer.concat(this.fragments, this.fragmentBytes);
    this.dropFragments();
    return [unit];
  }
}
