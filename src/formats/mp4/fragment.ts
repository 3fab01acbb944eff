import { BOX_HEADER_SIZE, box, boxHeader, fullBox, u32, u64 } from './boxes';

export interface Mp4Sample {
  /** In the track's timescale. */
  readonly duration: number;
  readonly size: number;
  /** pts - dts in the track's timescale (may be negative in trun version 1). */
  readonly compositionOffset: number;
  readonly sync: boolean;
  /** The sample's bytes, written to mdat in order (shared, not copied). */
  readonly data: readonly Buffer[];
}

export interface Mp4TrackRun {
  readonly trackId: number;
  /** Decode time of the first sample, in the track's timescale. */
  readonly baseDecodeTime: number;
  readonly samples: readonly Mp4Sample[];
}

/** sample_depends_on 2 (an I picture); non-sync samples depend on others and are not sync. */
const SYNC_FLAGS = 0x02000000;
const NON_SYNC_FLAGS = 0x01010000;
/** trun: data-offset, sample duration, size, flags and composition time offset present. */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;
/** tfhd: default-base-is-moof (offsets count from the moof's first byte). */
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_HEADER_SIZE = 12 + 8; // full box header + sample_count + data_offset
const TRUN_SAMPLE_SIZE = 16;

/**
 * One movie fragment: moof (mfhd, then per track tfhd, tfdt and trun) followed by one mdat with
 * the samples of every track, track after track. Returned as [moof, mdat header, ...sample
 * Buffers]: the sample bytes are not copied. Spec: ISO/IEC 14496-12 §8.8.4-§8.8.12.
 */
export function movieFragment(sequence: number, runs: readonly Mp4TrackRun[]): Buffer[] {
  const trafSizes = runs.map((run) => BOX_HEADER_SIZE + 16 + 20 + TRUN_HEADER_SIZE + TRUN_SAMPLE_SIZE * run.samples.length);
  const moofSize = BOX_HEADER_SIZE + 16 + trafSizes.reduce((a, b) => a + b, 0);
  let dataOffset = moofSize + BOX_HEADER_SIZE;
  const trafs: Buffer[] = [];
  const data: Buffer[] = [];
  let mdatSize = 0;
  for (const run of runs) {
    trafs.push(traf(run, dataOffset));
    for (const sample of run.samples) {
      data.push(...sample.data);
      dataOffset += sample.size;
      mdatSize += sample.size;
    }
  }
  const moof = box('moof', fullBox('mfhd', 0, 0, u32(sequence)), ...trafs);
  return [moof, boxHeader('mdat', mdatSize), ...data];
}

function traf(run: Mp4TrackRun, dataOffset: number): Buffer {
  const tfhd = fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, u32(run.trackId));
  const tfdt = fullBox('tfdt', 1, 0, u64(run.baseDecodeTime));
  const table = Buffer.allocUnsafe(8 + TRUN_SAMPLE_SIZE * run.samples.length);
  table.writeUInt32BE(run.samples.length, 0);
  table.writeInt32BE(dataOffset, 4);
  let o = 8;
  for (const sample of run.samples) {
    table.writeUInt32BE(sample.duration >>> 0, o);
    table.writeUInt32BE(sample.size >>> 0, o + 4);
    table.writeUInt32BE(sample.sync ? SYNC_FLAGS : NON_SYNC_FLAGS, o + 8);
    table.writeInt32BE(sample.compositionOffset | 0, o + 12);
    o += TRUN_SAMPLE_SIZE;
  }
  return box('traf', tfhd, tfdt, fullBox('trun', 1, TRUN_FLAGS, table));
}
