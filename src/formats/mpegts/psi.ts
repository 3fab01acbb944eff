import { parseAssert } from '../../core/errors';
import { crc32Mpeg2 } from './crc32';
import { PID_PAT, PROGRAM_NUMBER, TABLE_ID_PAT, TABLE_ID_PMT, TRANSPORT_STREAM_ID, TS_PACKET_SIZE, TS_SYNC_BYTE } from './constants';

/** One elementary stream of the program, as listed in the PMT. */
export interface PmtEntry {
  readonly streamType: number;
  readonly pid: number;
}

/** One program of a PAT (program 0 is the network PID). */
export interface PatEntry {
  readonly program: number;
  readonly pid: number;
}

/** A section is at most 1021 bytes after its length field (§2.4.4.11). */
export const MAX_SECTION_LENGTH = 1021;

/** Program-specific information written by the muxer. Spec: ISO/IEC 13818-1 §2.4.4. */
export interface ProgramTables {
  readonly pmtPid: number;
  readonly pcrPid: number;
  /** version_number of the PMT (0..31): bumped whenever the program changes. */
  readonly version: number;
  readonly streams: readonly PmtEntry[];
}

/** The PAT section (with CRC) announcing one program. Spec: ISO/IEC 13818-1 §2.4.4.3. */
export function patSection(pmtPid: number): Buffer {
  const section = Buffer.alloc(16);
  section[0] = TABLE_ID_PAT;
  writeSectionLength(section, 16 - 3);
  section.writeUInt16BE(TRANSPORT_STREAM_ID, 3);
  section[5] = 0xc1; // reserved '11', version 0, current_next_indicator 1
  section[6] = 0; // section_number
  section[7] = 0; // last_section_number
  section.writeUInt16BE(PROGRAM_NUMBER, 8);
  section.writeUInt16BE(0xe000 | pmtPid, 10);
  section.writeUInt32BE(crc32Mpeg2(section, 0, 12), 12);
  return section;
}

/** The PMT section (with CRC). Spec: ISO/IEC 13818-1 §2.4.4.8. */
export function pmtSection(tables: ProgramTables): Buffer {
  const length = 12 + 5 * tables.streams.length + 4;
  const section = Buffer.alloc(length);
  section[0] = TABLE_ID_PMT;
  writeSectionLength(section, length - 3);
  section.writeUInt16BE(PROGRAM_NUMBER, 3);
  section[5] = 0xc1 | ((tables.version & 0x1f) << 1);
  section[6] = 0;
  section[7] = 0;
  section.writeUInt16BE(0xe000 | tables.pcrPid, 8);
  section.writeUInt16BE(0xf000, 10); // program_info_length 0
  let offset = 12;
  for (const stream of tables.streams) {
    section[offset] = stream.streamType;
    section.writeUInt16BE(0xe000 | stream.pid, offset + 1);
    section.writeUInt16BE(0xf000, offset + 3); // ES_info_length 0
    offset += 5;
  }
  section.writeUInt32BE(crc32Mpeg2(section, 0, offset), offset);
  return section;
}

/**
 * Writes a section into one TS packet at `offset` of `out` (pointer_field 0, 0xFF fill). Our
 * sections are far below the 183 bytes one packet carries.
 */
export function writeSectionPacket(out: Buffer, offset: number, pid: number, continuity: number, section: Buffer): void {
  if (section.length > TS_PACKET_SIZE - 5) throw new RangeError(`PSI section of ${section.length} bytes needs more than one packet`);
  out[offset] = TS_SYNC_BYTE;
  out[offset + 1] = 0x40 | (pid >>> 8); // payload_unit_start_indicator
  out[offset + 2] = pid & 0xff;
  out[offset + 3] = 0x10 | (continuity & 0x0f); // payload only
  out[offset + 4] = 0; // pointer_field
  section.copy(out, offset + 5);
  out.fill(0xff, offset + 5 + section.length, offset + TS_PACKET_SIZE);
}

/** PAT then PMT, as two packets, written at `offset` of `out`. */
export function writeProgramTables(out: Buffer, offset: number, tables: ProgramTables, patContinuity: number, pmtContinuity: number): void {
  writeSectionPacket(out, offset, PID_PAT, patContinuity, patSection(tables.pmtPid));
  writeSectionPacket(out, offset + TS_PACKET_SIZE, tables.pmtPid, pmtContinuity, pmtSection(tables));
}

function writeSectionLength(section: Buffer, length: number): void {
  // section_syntax_indicator 1, '0', reserved '11', 12-bit section_length
  section.writeUInt16BE(0xb000 | length, 1);
}

/*
 * Reading. The CRC_32 is not checked: cameras are known to send wrong ones, and a bad table is
 * caught by its own structure (the PS demuxer's psm.ts does the same).
 */

/** Parses a whole PAT section (starting at table_id). Spec: ISO/IEC 13818-1 §2.4.4.3. */
export function parsePat(section: Buffer): PatEntry[] {
  parseAssert(section.length >= 12 && section[0] === TABLE_ID_PAT, 'not a PAT section');
  const end = sectionEnd(section);
  const entries: PatEntry[] = [];
  for (let o = 8; o + 4 <= end - 4; o += 4) {
    entries.push({ program: section.readUInt16BE(o), pid: section.readUInt16BE(o + 2) & 0x1fff });
  }
  return entries;
}

/** Parses a whole PMT section (starting at table_id). Spec: ISO/IEC 13818-1 §2.4.4.8. */
export function parsePmt(section: Buffer): PmtEntry[] {
  parseAssert(section.length >= 16 && section[0] === TABLE_ID_PMT, 'not a PMT section');
  const end = sectionEnd(section) - 4;
  const infoLength = section.readUInt16BE(10) & 0x0fff;
  let o = 12 + infoLength;
  parseAssert(o <= end, 'PMT program_info runs past the section');
  const streams: PmtEntry[] = [];
  while (o + 5 <= end) {
    const streamType = section[o]!;
    const pid = section.readUInt16BE(o + 1) & 0x1fff;
    const esInfoLength = section.readUInt16BE(o + 3) & 0x0fff;
    o += 5 + esInfoLength;
    parseAssert(o <= end, 'PMT ES_info runs past the section');
    streams.push({ streamType, pid });
  }
  return streams;
}

function sectionEnd(section: Buffer): number {
  const length = section.readUInt16BE(1) & 0x0fff;
  parseAssert(length <= MAX_SECTION_LENGTH, `section_length ${length} over ${MAX_SECTION_LENGTH}`);
  const end = 3 + length;
  parseAssert(end <= section.length && length >= 9, 'section length runs past its data');
  return end;
}
