import { parseAssert } from '../../src/core/errors';

/**
 * Program stream map parsing. Spec: ISO/IEC 13818-1 §2.5.4. The CRC is not checked: devices
 * get it wrong often enough that a bad CRC would cost more streams than it saves.
 */

export interface PsmEntry {
  readonly streamType: number;
  /** elementary_stream_id (0xE0.., 0xC0..). */
  readonly id: number;
}

/** Parses a whole PSM, start code included (`00 00 01 BC len ...`). */
export function parsePsm(psm: Buffer): PsmEntry[] {
  parseAssert(psm.length >= 16, `PSM of ${psm.length} bytes is too short`);
  const end = 6 + psm.readUInt16BE(4);
  parseAssert(end <= psm.length, 'PSM length runs past its data');
  const infoLength = psm.readUInt16BE(8);
  let offset = 10 + infoLength;
  parseAssert(offset + 2 <= end, 'PSM program_stream_info runs past the PSM');
  const mapLength = psm.readUInt16BE(offset);
  offset += 2;
  const mapEnd = offset + mapLength;
  // The map is followed by a 4-byte CRC; tolerate maps that leave no room for it.
  parseAssert(mapEnd <= end, 'PSM elementary_stream_map runs past the PSM');
  const entries: PsmEntry[] = [];
  while (offset + 4 <= mapEnd) {
    const streamType = psm[offset]!;
    const id = psm[offset + 1]!;
    const esInfoLength = psm.readUInt16BE(offset + 2);
    offset += 4 + esInfoLength;
    parseAssert(offset <= mapEnd, 'PSM elementary stream info runs past the map');
    entries.push({ streamType, id });
  }
  return entries;
}

/** Builds a PSM (for tests and loopback senders): entries without descriptors, CRC zeroed. */
export function buildPsm(entries: readonly PsmEntry[]): Buffer {
  const mapLength = entries.length * 4;
  const out = Buffer.alloc(16 + mapLength);
  out.writeUIntBE(0x000001bc, 0, 4);
  out.writeUInt16BE(out.length - 6, 4);
  out[6] = 0x80; // current_next_indicator, version 0
  out[7] = 0x01; // marker
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(mapLength, 10);
  entries.forEach((e, i) => {
    out[12 + i * 4] = e.streamType;
    out[13 + i * 4] = e.id;
    out.writeUInt16BE(0, 14 + i * 4);
  });
  return out;
}
