import { closeSync, existsSync, ftruncateSync, fstatSync, openSync, readSync } from 'node:fs';
import { errorMessage } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { TsDemuxer } from '../../src/formats/mpegts/demuxer';
import { TS_PACKET_SIZE, TS_SYNC_BYTE } from '../../src/formats/mpegts/constants';
import { FLV_HEADER_SIZE, FLV_PREVIOUS_TAG_SIZE_SIZE, FLV_TAG_AUDIO, FLV_TAG_HEADER_SIZE, FLV_TAG_SCRIPT, FLV_TAG_VIDEO } from '../../src/formats/flv/tag';
import type { RecordingFormat, RecordingRow, RecordingsRepo } from '../repos/recordings';
import type { RecordingLayout } from './layout';

/** What a scan found: where the last complete tag/packet ends and the media time it covers. */
export interface ScanResult {
  readonly validBytes: number;
  readonly durationMs: number;
  readonly keyframes: number;
}

const BLOCK = 1024 * 1024;
/** A tag this large cannot be ours (the FLV DataSize field is 24 bits): stop there. */
const MAX_TAG = 0xffffff;

/**
 * Scans an FLV file from the header: every tag whose header, body and PreviousTagSize are all
 * there and agree counts; the first one that does not ends the valid part.
 * Spec: Adobe FLV File Format Specification v10.1 §E.3, §E.4.1.
 */
export function scanFlv(fd: number, size: number): ScanResult {
  const head = Buffer.alloc(FLV_TAG_HEADER_SIZE);
  if (size < FLV_HEADER_SIZE + FLV_PREVIOUS_TAG_SIZE_SIZE || readSync(fd, head, 0, 3, 0) !== 3 || head.toString('latin1', 0, 3) !== 'FLV')
    return { validBytes: 0, durationMs: 0, keyframes: 0 };
  let offset = FLV_HEADER_SIZE + FLV_PREVIOUS_TAG_SIZE_SIZE;
  let first: number | undefined;
  let last = 0;
  let keyframes = 0;
  const trailer = Buffer.alloc(4);
  const firstByte = Buffer.alloc(1);
  while (offset + FLV_TAG_HEADER_SIZE <= size) {
    readSync(fd, head, 0, FLV_TAG_HEADER_SIZE, offset);
    const type = head[0]!;
    const dataSize = head.readUIntBE(1, 3);
    const end = offset + FLV_TAG_HEADER_SIZE + dataSize + FLV_PREVIOUS_TAG_SIZE_SIZE;
    if ((type !== FLV_TAG_AUDIO && type !== FLV_TAG_VIDEO && type !== FLV_TAG_SCRIPT) || dataSize > MAX_TAG || end > size) break;
    readSync(fd, trailer, 0, 4, end - 4);
    if (trailer.readUInt32BE(0) !== FLV_TAG_HEADER_SIZE + dataSize) break;
    const ts = (head.readUIntBE(4, 3) | (head[7]! << 24)) >>> 0;
    if (type !== FLV_TAG_SCRIPT) {
      first ??= ts;
      if (ts > last) last = ts;
    }
    if (type === FLV_TAG_VIDEO && dataSize > 0) {
      readSync(fd, firstByte, 0, 1, offset + FLV_TAG_HEADER_SIZE);
      const b = firstByte[0]!;
      // Legacy FrameType in the high nibble; Enhanced RTMP sets bit 7 and keeps it in bits 4-6.
      if ((b & 0x80 ? (b >> 4) & 0x07 : b >> 4) === 1) keyframes++;
    }
    offset = end;
  }
  return { validBytes: offset, durationMs: first === undefined ? 0 : last - first, keyframes };
}

/**
 * Scans an MPEG-TS file: whole 188-byte packets that start with the sync byte count; the file
 * is then cut before the first PES still open at the end (a frame whose end is not there), so
 * the rest decodes cleanly. An unbounded video PES cannot be known complete: the last frame
 * may go with it. Spec: ISO/IEC 13818-1 §2.4.3.
 */
export function scanTs(fd: number, size: number): ScanResult {
  let packetAt = 0;
  const open = new Map<number, number>();
  const starts: { offset: number; dts: number | undefined; key: boolean }[] = [];
  const demuxer = new TsDemuxer({
    onStreams: () => undefined,
    onPesStart: (pes) => {
      open.set(pes.id, packetAt);
      starts.push({ offset: packetAt, dts: pes.dts ?? pes.pts, key: pes.randomAccess === true && pes.kind === 'video' });
    },
    onPesData: () => undefined,
    onPesEnd: (id) => void open.delete(id),
    onDiscontinuity: () => undefined,
  });
  const block = Buffer.alloc(BLOCK - (BLOCK % TS_PACKET_SIZE));
  let offset = 0;
  scan: while (offset + TS_PACKET_SIZE <= size) {
    const want = Math.min(block.length, size - offset - ((size - offset) % TS_PACKET_SIZE));
    const got = readSync(fd, block, 0, want, offset);
    const whole = got - (got % TS_PACKET_SIZE);
    for (let p = 0; p < whole; p += TS_PACKET_SIZE) {
      if (block[p] !== TS_SYNC_BYTE) break scan;
      packetAt = offset;
      demuxer.feed(block.subarray(p, p + TS_PACKET_SIZE));
      offset += TS_PACKET_SIZE;
    }
    if (whole === 0) break;
  }
  const validBytes = Math.min(offset, ...open.values());
  let first: number | undefined;
  let last = 0;
  let keyframes = 0;
  for (const start of starts) {
    if (start.offset >= validBytes || start.dts === undefined) continue;
    first ??= start.dts;
    if (start.dts > last) last = start.dts;
    if (start.key) keyframes++;
  }
  // The timestamps are 33-bit; a segment is far shorter than a wrap (26.5 h).
  return { validBytes, durationMs: first === undefined ? 0 : Math.round((last - first) / 90), keyframes };
}

/** Scans `absolute` as `format` and cuts it after its last complete tag/packet. */
export function cutAfterLastComplete(absolute: string, format: RecordingFormat): ScanResult {
  const fd = openSync(absolute, 'r+');
  try {
    const size = fstatSync(fd).size;
    const result = format === 'flv' ? scanFlv(fd, size) : scanTs(fd, size);
    if (result.validBytes < size) ftruncateSync(fd, result.validBytes);
    return result;
  } finally {
    closeSync(fd);
  }
}

/**
 * Start-up recovery: every row left `recording` by a crash (or the given ones: those a restarted
 * cluster worker left open) is scanned, its file cut after the last complete tag/packet, its end
 * and size fixed and marked `recovered` (or `missing` when the file is gone). A row closed since
 * it was listed is left alone. Returns the rows it touched.
 */
export function recoverOpenSegments(
  repo: RecordingsRepo,
  layout: RecordingLayout,
  log: Logger,
  rows: readonly RecordingRow[] = repo.open(),
): { recovered: number; missing: number; hlsFolders: { path: string; startMs: number }[] } {
  const out = { recovered: 0, missing: 0, hlsFolders: [] as { path: string; startMs: number }[] };
  for (const row of rows) {
    if (repo.get(row.id)?.status !== 'recording') continue;
    try {
      const absolute = layout.inside(row.file);
      if (!existsSync(absolute)) {
        repo.setStatus(row.id, 'missing');
        out.missing++;
        continue;
      }
      const scan = cutAfterLastComplete(absolute, row.format);
      repo.progress(row.id, { endMs: row.startMs + scan.durationMs, bytes: scan.validBytes, keyframes: scan.keyframes, status: 'recovered' });
      out.recovered++;
      if (row.format === 'hls') out.hlsFolders.push({ path: row.path, startMs: row.startMs });
      log.info({ file: row.file, bytes: scan.validBytes, durationMs: scan.durationMs }, 'recording recovered after an unclean stop');
    } catch (err) {
      log.warn({ file: row.file, err: errorMessage(err) }, 'recording could not be recovered');
      repo.setStatus(row.id, 'missing');
      out.missing++;
    }
  }
  return out;
}
