import { buildRtpPacket } from '../packet';
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
    this.count(payload.payload.length, timestamp);
    return packet;
  }

  /**
   * The 12-byte header of the next packet written into `out` at `offset`, for a payload sent
   * beside it (one payload shared by many writers, each with its own header). Spec: RFC 3550 §5.1.
   */
  writeHeader(out: Buffer, offset: number, payload: RtpPayload, timestamp: number): void {
    out[offset] = 0x80;
    out[offset + 1] = (payload.marker ? 0x80 : 0) | (this.payloadType & 0x7f);
    out.writeUInt16BE(this.sequence, offset + 2);
    out.writeUInt32BE(timestamp >>> 0, offset + 4);
    out.writeUInt32BE(this.ssrc >>> 0, offset + 8);
    this.count(payload.payload.length, timestamp);
  }

  private count(payloadBytes: number, timestamp: number): void {
    this.sequence = (this.sequence + 1) & 0xffff;
    this.packets++;
    this.octets += payloadBytes;
    this.lastTimestamp = timestamp >>> 0;
  }
}
