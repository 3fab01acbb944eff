/**
 * H.264 and H.265 RTP packetizers, the mirror of rtp/depacketize/h264.ts and h265.ts: units
 * that fit go as single NAL unit packets, runs of small units (parameter sets) are aggregated
 * where that saves packets, a unit larger than the payload budget is fragmented.
 * Spec: RFC 6184 §5.6 (single NAL), §5.7.1 (STAP-A), §5.8 (FU-A), packetization-mode 1.
 * Spec: RFC 7798 §4.4.1 (single NAL), §4.4.2 (AP), §4.4.3 (FU), without DONL.
 */

/** Payload budget of one RTP packet: a 1500-byte Ethernet MTU less IP, UDP and RTP headers. */
export const DEFAULT_MAX_PAYLOAD = 1400;
/** The smallest budget that still moves a fragment's header plus one byte. */
export const MIN_MAX_PAYLOAD = 4;

/** One RTP payload of an access unit; the last one of the unit carries the marker bit. */
export interface RtpPayload {
  readonly payload: Buffer;
  readonly marker: boolean;
}

interface NalFormat {
  /** NAL header bytes (1 for H.264, 2 for H.265). */
  readonly headerBytes: number;
  aggregateHeader(units: readonly Buffer[]): Buffer;
  /** The payload header and FU header of a fragment of `unit`. */
  fragmentHeader(unit: Buffer, start: boolean, end: boolean): Buffer;
}

const H264: NalFormat = {
  headerBytes: 1,
  aggregateHeader(units) {
    // STAP-A: F is the OR of the units' F bits, NRI their maximum (RFC 6184 §5.7.1).
    let nri = 0;
    for (const unit of units) nri = Math.max(nri, unit[0]! & 0x60);
    return Buffer.from([nri | 24]);
  },
  fragmentHeader(unit, start, end) {
    return Buffer.from([(unit[0]! & 0xe0) | 28, (start ? 0x80 : 0) | (end ? 0x40 : 0) | (unit[0]! & 0x1f)]);
  },
};

const H265: NalFormat = {
  headerBytes: 2,
  aggregateHeader(units) {
    // AP payload header: type 48, LayerId and TID of the first unit (all units of one AU share them).
    const first = units[0]!;
    return Buffer.from([(first[0]! & 0x81) | (48 << 1), first[1]!]);
  },
  fragmentHeader(unit, start, end) {
    const type = (unit[0]! >> 1) & 0x3f;
    return Buffer.from([(unit[0]! & 0x81) | (49 << 1), unit[1]!, (start ? 0x80 : 0) | (end ? 0x40 : 0) | type]);
  },
};

export function packetizeH264(units: readonly Buffer[], maxPayload = DEFAULT_MAX_PAYLOAD): RtpPayload[] {
  return packetizeNals(H264, units, maxPayload);
}

export function packetizeH265(units: readonly Buffer[], maxPayload = DEFAULT_MAX_PAYLOAD): RtpPayload[] {
  return packetizeNals(H265, units, maxPayload);
}

function packetizeNals(format: NalFormat, units: readonly Buffer[], maxPayload: number): RtpPayload[] {
  if (!Number.isInteger(maxPayload) || maxPayload < MIN_MAX_PAYLOAD) throw new RangeError(`max RTP payload ${maxPayload} is below ${MIN_MAX_PAYLOAD}`);
  const payloads: Buffer[] = [];
  const valid = units.filter((unit) => unit.length > format.headerBytes);
  for (let i = 0; i < valid.length;) {
    const run = aggregateRun(format, valid, i, maxPayload);
    if (run > 1) {
      payloads.push(aggregate(format, valid.slice(i, i + run)));
      i += run;
      continue;
    }
    const unit = valid[i++]!;
    if (unit.length <= maxPayload) payloads.push(unit);
    else payloads.push(...fragment(format, unit, maxPayload));
  }
  return payloads.map((payload, index) => ({ payload, marker: index === payloads.length - 1 }));
}

/** How many units from `start` fit in one aggregation packet (each with a 16-bit size). */
function aggregateRun(format: NalFormat, units: readonly Buffer[], start: number, maxPayload: number): number {
  let size = format.headerBytes;
  let count = 0;
  for (let i = start; i < units.length; i++) {
    const next = size + 2 + units[i]!.length;
    if (next > maxPayload) break;
    size = next;
    count++;
  }
  return count;
}

function aggregate(format: NalFormat, units: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [format.aggregateHeader(units)];
  for (const unit of units) {
    const size = Buffer.alloc(2);
    size.writeUInt16BE(unit.length);
    parts.push(size, unit);
  }
  return Buffer.concat(parts);
}

function fragment(format: NalFormat, unit: Buffer, maxPayload: number): Buffer[] {
  const headerBytes = format.headerBytes + 1;
  const chunk = maxPayload - headerBytes;
  const out: Buffer[] = [];
  for (let o = format.headerBytes; o < unit.length; o += chunk) {
    const end = Math.min(o + chunk, unit.length);
    out.push(Buffer.concat([format.fragmentHeader(unit, o === format.headerBytes, end === unit.length), unit.subarray(o, end)]));
  }
  return out;
}
