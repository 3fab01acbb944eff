import { ParseError } from '../src/core/errors';

/**
 * RTCP: recognise it among RTP packets, read Sender Reports (NTP <-> RTP time mapping), build
 * Receiver Reports. Spec: RFC 3550 §6.4 (SR, RR), RFC 5761 §4 (telling RTP and RTCP apart).
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;

/** RFC 3550 §6.4.1: at most 31 report blocks per SR/RR. */
const MAX_REPORT_BLOCKS = 31;

/**
 * True when the datagram is RTCP rather than RTP: version 2 and a packet type in 192..223
 * (RFC 5761 §4; RTP payload types 64..95 are avoided precisely so this works).
 */
export function isRtcpPacket(buf: Buffer): boolean {
  if (buf.length < 4 || buf[0]! >> 6 !== 2) return false;
  const pt = buf[1]!;
  return pt >= 192 && pt <= 223;
}

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the last report, 0..255 (as the fixed-point byte). */
  fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number;
  highestSequence: number;
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received, 0 if none. */
  lastSr: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSr: number;
}

export interface SenderReport {
  type: 'sr';
  ssrc: number;
  /** NTP timestamp: seconds since 1900 and a 32-bit fraction. */
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
}

export interface OtherRtcp {
  type: 'other';
  packetType: number;
}

export type RtcpPacket = SenderReport | ReceiverReport | OtherRtcp;

function readReportBlocks(buf: Buffer, offset: number, count: number, end: number): ReportBlock[] {
  if (offset + count * 24 > end) throw new ParseError('RTCP report blocks run past the packet');
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    const o = offset + i * 24;
    const lost = buf.readUIntBE(o + 5, 3);
    reports.push({
      ssrc: buf.readUInt32BE(o),
      fractionLost: buf[o + 4]!,
      cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSequence: buf.readUInt32BE(o + 8),
      jitter: buf.readUInt32BE(o + 12),
      lastSr: buf.readUInt32BE(o + 16),
      delaySinceLastSr: buf.readUInt32BE(o + 20),
    });
  }
  return reports;
}

/** Parses a compound RTCP packet. Unknown packet types are returned as `other`. */
export function parseRtcp(buf: Buffer): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (offset + 4 > buf.length) throw new ParseError('truncated RTCP header');
    const b0 = buf[offset]!;
    if (b0 >> 6 !== 2) throw new ParseError(`RTCP version ${b0 >> 6}, expected 2`);
    const count = b0 & 0x1f;
    const packetType = buf[offset + 1]!;
    const end = offset + (buf.readUInt16BE(offset + 2) + 1) * 4;
    if (end > buf.length) throw new ParseError('RTCP packet length runs past the datagram');
    if (packetType === RTCP_SR) {
      if (offset + 28 > end) throw new ParseError('RTCP SR too short');
      out.push({
        type: 'sr',
        ssrc: buf.readUInt32BE(offset + 4),
        ntpSeconds: buf.readUInt32BE(offset + 8),
        ntpFraction: buf.readUInt32BE(offset + 12),
        rtpTimestamp: buf.readUInt32BE(offset + 16),
        packetCount: buf.readUInt32BE(offset + 20),
        octetCount: buf.readUInt32BE(offset + 24),
        reports: readReportBlocks(buf, offset + 28, count, end),
      });
    } else if (packetType === RTCP_RR) {
      if (offset + 8 > end) throw new ParseError('RTCP RR too short');
      out.push({ type: 'rr', ssrc: buf.readUInt32BE(offset + 4), reports: readReportBlocks(buf, offset + 8, count, end) });
    } else {
      out.push({ type: 'other', packetType });
    }
    offset = end;
  }
  return out;
}

/** The middle 32 bits of an NTP timestamp, as echoed in `lastSr` (RFC 3550 §6.4.1 LSR). */
export function ntpMiddle32(ntpSeconds: number, ntpFraction: number): number {
  return (((ntpSeconds & 0xffff) << 16) | (ntpFraction >>> 16)) >>> 0;
}

/** NTP time of a Sender Report in ms since the Unix epoch. */
export function ntpToUnixMs(ntpSeconds: number, ntpFraction: number): number {
  const NTP_UNIX_OFFSET_S = 2_208_988_800;
  return (ntpSeconds - NTP_UNIX_OFFSET_S) * 1000 + (ntpFraction / 0x1_0000_0000) * 1000;
}

/** Maps RTP timestamps of one source to wall-clock ms using its last Sender Report. */
export interface NtpRtpMapping {
  unixMs: number;
  rtpTimestamp: number;
  clockRate: number;
}

export function mappingFromSr(sr: SenderReport, clockRate: number): NtpRtpMapping {
  return { unixMs: ntpToUnixMs(sr.ntpSeconds, sr.ntpFraction), rtpTimestamp: sr.rtpTimestamp, clockRate };
}

/** Wall-clock ms of an RTP timestamp near the SR (32-bit wrap taken as the nearest distance). */
export function rtpToUnixMs(mapping: NtpRtpMapping, rtpTimestamp: number): number {
  let delta = (rtpTimestamp - mapping.rtpTimestamp) >>> 0;
  if (delta >= 0x8000_0000) delta -= 0x1_0000_0000;
  return mapping.unixMs + (delta * 1000) / mapping.clockRate;
}

/**
 * Builds a Receiver Report. With no blocks it is the empty RR (RFC 3550 §6.4.2: "RC = 0") that
 * a receiver with nothing to report, or one that only wants to keep a NAT binding open, sends.
 */
export function buildReceiverReport(ssrc: number, reports: readonly ReportBlock[] = []): Buffer {
  if (reports.length > MAX_REPORT_BLOCKS) throw new RangeError('at most 31 report blocks');
  const out = Buffer.alloc(8 + reports.length * 24);
  out[0] = 0x80 | reports.length;
  out[1] = RTCP_RR;
  out.writeUInt16BE(out.length / 4 - 1, 2);
  out.writeUInt32BE(ssrc >>> 0, 4);
  reports.forEach((r, i) => {
    const o = 8 + i * 24;
    out.writeUInt32BE(r.ssrc >>> 0, o);
    out[o + 4] = Math.max(0, Math.min(255, r.fractionLost));
    const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost));
    out.writeUIntBE(lost < 0 ? lost + 0x1000000 : lost, o + 5, 3);
    out.writeUInt32BE(r.highestSequence >>> 0, o + 8);
    out.writeUInt32BE(r.jitter >>> 0, o + 12);
    out.writeUInt32BE(r.lastSr >>> 0, o + 16);
    out.writeUInt32BE(r.delaySinceLastSr >>> 0, o + 20);
  });
  return out;
}

/** Builds a Sender Report (no report blocks): for tests and loopback senders. */
export function buildSenderReport(fields: Omit<SenderReport, 'type' | 'reports'>): Buffer {
  const out = Buffer.alloc(28);
  out[0] = 0x80;
  out[1] = RTCP_SR;
  out.writeUInt16BE(6, 2);
  out.writeUInt32BE(fields.ssrc >>> 0, 4);
  out.writeUInt32BE(fields.ntpSeconds >>> 0, 8);
  out.writeUInt32BE(fields.ntpFraction >>> 0, 12);
  out.writeUInt32BE(fields.rtpTimestamp >>> 0, 16);
  out.writeUInt32BE(fields.packetCount >>> 0, 20);
  out.writeUInt32BE(fields.octetCount >>> 0, 24);
  return out;
}

/**
 * Receiver-side statistics for one source, the inputs of a report block.
 * Spec: RFC 3550 §A.3 (loss), §A.8 (interarrival jitter), §6.4.1 (LSR/DLSR).
 */
export class ReceptionStats {
  private baseSeq: number | undefined;
  private maxExtSeq = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitter = 0;
  private lastTransit: number | undefined;
  private lastSrMiddle = 0;
  private lastSrAt = 0;

  constructor(private readonly clockRate: number) {}

  /** Records a packet: `extSeq` from a SequenceExtender, `arrivalMs` monotonic. */
  onPacket(extSeq: number, rtpTimestamp: number, arrivalMs: number): void {
    if (this.baseSeq === undefined) {
      this.baseSeq = extSeq;
      this.maxExtSeq = extSeq;
    } else if (extSeq > this.maxExtSeq) {
      this.maxExtSeq = extSeq;
    }
    this.received++;
    const arrival = (arrivalMs * this.clockRate) / 1000;
    const transit = arrival - rtpTimestamp;
    if (this.lastTransit !== undefined) {
      let d = Math.abs(transit - this.lastTransit);
      if (d > 0x8000_0000) d = Math.abs(d - 0x1_0000_0000);
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  onSenderReport(sr: SenderReport, arrivalMs: number): void {
    this.lastSrMiddle = ntpMiddle32(sr.ntpSeconds, sr.ntpFraction);
    this.lastSrAt = arrivalMs;
  }

  /** A report block for `ssrc`; resets the "since last report" interval. */
  reportBlock(ssrc: number, nowMs: number): ReportBlock | undefined {
    if (this.baseSeq === undefined) return undefined;
    const expected = this.maxExtSeq - this.baseSeq + 1;
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    return {
      ssrc,
      fractionLost: Math.min(255, fraction),
      cumulativeLost: lost,
      highestSequence: this.maxExtSeq >>> 0,
      jitter: Math.round(this.jitter),
      lastSr: this.lastSrMiddle,
      delaySinceLastSr: this.lastSrMiddle === 0 ? 0 : Math.round(((nowMs - this.lastSrAt) * 65536) / 1000),
    };
  }
}
