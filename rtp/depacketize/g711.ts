import { parseAssert } from '../../src/core/errors';
import type { RtpPacket } from '../packet';
import type { AudioDepacketizer, AudioUnit } from './aac';

/** G.711 over RTP (RFC 3551 §4.5.14, static PT 0 PCMU / 8 PCMA): the payload is the samples. */
export class G711Depacketizer implements AudioDepacketizer {
  readonly asc = undefined;

  push(packet: RtpPacket): AudioUnit[] {
    parseAssert(packet.payload.length > 0, 'empty G.711 payload');
    return [{ data: Buffer.from(packet.payload), timestamp: packet.timestamp }];
  }

  reset(): void {}
}
