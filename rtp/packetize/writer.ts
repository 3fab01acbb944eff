import { RTP_HEADER_SIZE, buildRtpPacket } from '../packet';
import type { RtpPayload } from './video';

/**
 * Numbers payloads into RTP packets of one stream (one SSRC, one payload type) and keeps the
 * counts an RTCP sender report needs. Spec: RFC 3550 §5.1.
 */
export class RtpPacketWriter {
  private sequence: number;
  packets = 0;
  octets = 0;
  lastTimestamp = 0;

  constructor(
    readonly ssrc: number,
    readonly payloadType: number,
    firstSequence = 0,
  ) {
    this.sequence = firstSequence & 0xffff;
  }

  write(payload: RtpPayload, timestamp: number): Buffer {
    const packet = buildRtpPacket({ marker: payload.marker, payloadType: this.payloadType, sequence: this.sequence, timestamp, ssrc: this.ssrc, payload: payload.payload });
    this.sequence = (this.sequence + 1) & 0xffff;
    this.packets++;
    this.octets += packet.length - RTP_HEADER_SIZE;
    this.lastTimestamp = timestamp >>> 0;
    return packet;
  }
}
