import { ParseError, parseAssert } from '../../core/errors';
import { crc32Mpeg2 } from './crc32';
import { PID_NULL, PID_PAT, TABLE_ID_PAT, TABLE_ID_PMT, TS_PACKET_SIZE, TS_SYNC_BYTE } from './constants';
import { readPesTimestamp } from './pes';

/** Largest PES accepted (a 4K keyframe is a few MB). */
export const MAX_PES_BYTES = 16 * 1024 * 1024;
/** Most elementary streams one PMT may declare. */
export const MAX_PMT_STREAMS = 32;

export interface TsPmtStream {
  readonly pid: number;
  readonly streamType: number;
}

export type TsDemuxEvent =
  | { readonly type: 'pat'; readonly pmtPid: number; readonly programNumber: number }
  | { readonly type: 'pmt'; readonly version: number; readonly pcrPid: number; readonly streams: readonly TsPmtStream[] }
  | { readonly type: 'pcr'; readonly pid: number; readonly pcr: number }
  | { readonly type: 'continuity'; readonly pid: number; readonly expected: number; readonly got: number }
  | {
      readonly type: 'pes';
      readonly pid: number;
      readonly streamType: number;
      readonly streamId: number;
      readonly pts?: number;
      readonly dts?: number;
      /** random_access_indicator of the packet that started this PES. */
      readonly randomAccess: boolean;
      /** PES_packet_length as written (0: unbounded). */
      readonly declaredLength: number;
      /** The PES payload (a copy). */
      readonly payload: Buffer;
    };

interface PendingPes {
  parts: Buffer[];
  bytes: number;
  randomAccess: boolean;
  /** PES_packet_length once its 6 bytes arrived. */
  declared?: number;
}

/**
 * An incremental, strict MPEG-TS demuxer (one program): feed it bytes in any slices and get PSI,
 * PCR, continuity and PES events. Lost sync, a bad CRC, an impossible adaptation field or PES
 * header is a ParseError; continuity gaps are reported as events. Spec: ISO/IEC 13818-1 §2.4.
 */
export class TsDemuxer {
  private remainder: Buffer = Buffer.alloc(0);
  private pmtPid: number | undefined;
  private readonly streamTypes = new Map<number, number>();
  private readonly continuity = new Map<number, number>();
  private readonly pending = new Map<number, PendingPes>();

  feed(chunk: Buffer): TsDemuxEvent[] {
    const buf = this.remainder.length ? Buffer.concat([this.remainder, chunk]) : chunk;
    const events: TsDemuxEvent[] = [];
    let offset = 0;
    for (; offset + TS_PACKET_SIZE <= buf.length; offset += TS_PACKET_SIZE) {
      this.packet(buf.subarray(offset, offset + TS_PACKET_SIZE), events);
    }
    this.remainder = Buffer.from(buf.subarray(offset));
    return events;
  }

  /** Emits the PES still being assembled on each PID (end of input). */
  flush(): TsDemuxEvent[] {
    const events: TsDemuxEvent[] = [];
    for (const pid of [...this.pending.keys()]) this.emitPes(pid, events);
    return events;
  }

  private packet(p: Buffer, events: TsDemuxEvent[]): void {
    if (p[0] !== TS_SYNC_BYTE) throw new ParseError(`TS sync byte 0x${p[0]!.toString(16)} instead of 0x47`);
    parseAssert((p[1]! & 0x80) === 0, 'TS transport_error_indicator set');
    const start = (p[1]! & 0x40) !== 0;
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const control = (p[3]! >>> 4) & 0x03;
    const cc = p[3]! & 0x0f;
    parseAssert(control !== 0, 'TS adaptation_field_control 0 is reserved');
    if (pid === PID_NULL) return;
    let offset = 4;
    let randomAccess = false;
    if (control & 0x02) {
      const length = p[4]!;
      parseAssert(length <= (control & 0x01 ? 182 : 183), `TS adaptation_field_length ${length} too long`);
      if (length > 0) {
        const flags = p[5]!;
        randomAccess = (flags & 0x40) !== 0;
        if (flags & 0x10) {
          parseAssert(length >= 7, 'TS adaptation field too short for its PCR');
          const base = p[6]! * 2 ** 25 + ((p[7]! << 17) | (p[8]! << 9) | (p[9]! << 1) | (p[10]! >>> 7));
          events.push({ type: 'pcr', pid, pcr: base });
        }
      }
      offset = 5 + length;
    }
    if (!(control & 0x01)) return;
    this.checkContinuity(pid, cc, events);
    const payload = p.subarray(offset);
    if (pid === PID_PAT) this.section(payload, start, TABLE_ID_PAT, events);
    else if (pid === this.pmtPid) this.section(payload, start, TABLE_ID_PMT, events);
    else if (this.streamTypes.has(pid)) this.pesData(pid, payload, start, randomAccess, events);
  }

  private checkContinuity(pid: number, cc: number, events: TsDemuxEvent[]): void {
    const last = this.continuity.get(pid);
    this.continuity.set(pid, cc);
    if (last === undefined) return;
    const expected = (last + 1) & 0x0f;
    if (cc !== expected) events.push({ type: 'continuity', pid, expected, got: cc });
  }

  /** One-packet PSI sections (what every camera and muxer sends for a single program). */
  private section(payload: Buffer, start: boolean, tableId: number, events: TsDemuxEvent[]): void {
    if (!start) return;
    parseAssert(payload.length >= 1, 'PSI without pointer_field');
    const at = 1 + payload[0]!;
    parseAssert(at + 3 <= payload.length, 'PSI pointer_field past the packet');
    const length = ((payload[at + 1]! & 0x0f) << 8) | payload[at + 2]!;
    parseAssert(payload[at] === tableId, `PSI table_id ${payload[at]} where ${tableId} was expected`);
    parseAssert(length >= 9 && at + 3 + length <= payload.length, `PSI section_length ${length} does not fit one packet`);
    const section = payload.subarray(at, at + 3 + length);
    const crc = section.readUInt32BE(section.length - 4);
    parseAssert(crc32Mpeg2(section, 0, section.length - 4) === crc, 'PSI CRC32 mismatch');
    if (tableId === TABLE_ID_PAT) this.pat(section, events);
    else this.pmt(section, events);
  }

  private pat(section: Buffer, events: TsDemuxEvent[]): void {
    for (let i = 8; i + 4 <= section.length - 4; i += 4) {
      const programNumber = section.readUInt16BE(i);
      const pid = section.readUInt16BE(i + 2) & 0x1fff;
      if (programNumber === 0) continue; // network PID
      if (this.pmtPid !== pid) this.pmtPid = pid;
      events.push({ type: 'pat', pmtPid: pid, programNumber });
      return;
    }
  }

  private pmt(section: Buffer, events: TsDemuxEvent[]): void {
    const version = (section[5]! >>> 1) & 0x1f;
    const pcrPid = section.readUInt16BE(8) & 0x1fff;
    const infoLength = section.readUInt16BE(10) & 0x0fff;
    let i = 12 + infoLength;
    parseAssert(i <= section.length - 4, 'PMT program_info_length past the section');
    const streams: TsPmtStream[] = [];
    while (i + 5 <= section.length - 4) {
      parseAssert(streams.length < MAX_PMT_STREAMS, `PMT with more than ${MAX_PMT_STREAMS} streams`);
      const streamType = section[i]!;
      const pid = section.readUInt16BE(i + 1) & 0x1fff;
      const esInfo = section.readUInt16BE(i + 3) & 0x0fff;
      streams.push({ pid, streamType });
      i += 5 + esInfo;
    }
    parseAssert(i === section.length - 4, 'PMT stream loop does not end at the CRC');
    this.streamTypes.clear();
    for (const s of streams) this.streamTypes.set(s.pid, s.streamType);
    events.push({ type: 'pmt', version, pcrPid, streams });
  }

  private pesData(pid: number, payload: Buffer, start: boolean, randomAccess: boolean, events: TsDemuxEvent[]): void {
    if (start) {
      this.emitPes(pid, events);
      this.pending.set(pid, { parts: [], bytes: 0, randomAccess });
    }
    const pes = this.pending.get(pid);
    if (!pes) return; // joined mid-PES: wait for the next start
    parseAssert(pes.bytes + payload.length <= MAX_PES_BYTES, `PES on PID ${pid} larger than ${MAX_PES_BYTES} bytes`);
    pes.parts.push(Buffer.from(payload));
    pes.bytes += payload.length;
    if (pes.declared === undefined && pes.bytes >= 6) {
      pes.declared = (pes.parts.length === 1 ? pes.parts[0]! : Buffer.concat(pes.parts)).readUInt16BE(4);
    }
    if (pes.declared && pes.bytes >= pes.declared + 6) this.emitPes(pid, events);
  }

  private emitPes(pid: number, events: TsDemuxEvent[]): void {
    const pes = this.pending.get(pid);
    if (!pes) return;
    this.pending.delete(pid);
    const buf = Buffer.concat(pes.parts);
    parseAssert(buf.length >= 9 && buf[0] === 0 && buf[1] === 0 && buf[2] === 1, `PES on PID ${pid} without a start code prefix`);
    const streamId = buf[3]!;
    const declaredLength = buf.readUInt16BE(4);
    parseAssert((buf[6]! & 0xc0) === 0x80, 'PES header without the 10 marker bits');
    const flags = buf[7]! >>> 6;
    parseAssert(flags !== 1, 'PES PTS_DTS_flags 01 is forbidden');
    const dataLength = buf[8]!;
    parseAssert(9 + dataLength <= buf.length, 'PES header data past the PES');
    parseAssert(dataLength >= (flags === 3 ? 10 : flags === 2 ? 5 : 0), 'PES header too short for its timestamps');
    const pts = flags & 2 ? readPesTimestamp(buf, 9) : undefined;
    const dts = flags === 3 ? readPesTimestamp(buf, 14) : pts;
    const end = declaredLength > 0 ? Math.min(buf.length, 6 + declaredLength) : buf.length;
    parseAssert(end >= 9 + dataLength, 'PES_packet_length shorter than its header');
    events.push({
      type: 'pes',
      pid,
      streamType: this.streamTypes.get(pid) ?? 0,
      streamId,
      pts,
      dts,
      randomAccess: pes.randomAccess,
      declaredLength,
      payload: buf.subarray(9 + dataLength, end),
    });
  }
}
