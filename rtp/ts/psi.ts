import { parseAssert } from '../../src/core/errors';

/**
 * PSI sections of MPEG-TS: PAT and PMT. Spec: ISO/IEC 13818-1 §2.4.4.3 (PAT), §2.4.4.8 (PMT).
 * The CRC_32 is not checked (see psm.ts for the reasoning).
 */

/** A section is at most 1021 bytes after its length field (§2.4.4.11). */
export const MAX_SECTION_LENGTH = 1021;

export interface PatEntry {
  readonly program: number;
  readonly pid: number;
}

export interface PmtStream {
  readonly streamType: number;
  readonly pid: number;
}

/** Parses a whole PAT section (starting at table_id). */
export function parsePat(section: Buffer): PatEntry[] {
  parseAssert(section.length >= 12 && section[0] === 0x00, 'not a PAT section');
  const end = sectionEnd(section);
  const entries: PatEntry[] = [];
  for (let o = 8; o + 4 <= end - 4; o += 4) {
    entries.push({ program: section.readUInt16BE(o), pid: section.readUInt16BE(o + 2) & 0x1fff });
  }
  return entries;
}

/** Parses a whole PMT section (starting at table_id). */
export function parsePmt(section: Buffer): PmtStream[] {
  parseAssert(section.length >= 16 && section[0] === 0x02, 'not a PMT section');
  const end = sectionEnd(section) - 4;
  const infoLength = section.readUInt16BE(10) & 0x0fff;
  let o = 12 + infoLength;
  parseAssert(o <= end, 'PMT program_info runs past the section');
  const streams: PmtStream[] = [];
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
