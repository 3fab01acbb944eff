import { existsSync, rmSync, statfsSync } from 'node:fs';
import { errorMessage } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import type { RecordingRow, RecordingsRepo } from '../repos/recordings';
import type { SegmentStore } from './segment-store';

export interface RetentionOptions {
  readonly store: SegmentStore;
  readonly repo: RecordingsRepo;
  readonly log: Logger;
  /** Retention in days of a segment made by `planId` (its plan's, else record.deleteAfterDays); 0 keeps it. */
  readonly daysFor: (planId: string | null) => number;
  /** The shortest retention that applies to any segment (0: none). */
  readonly shortestDays: () => number;
  /** Keep at least this much free on the filesystem of record.dir (0: no check). */
  readonly minFreeBytes: number;
  /** Keep the recordings' total under this (0: no limit). */
  readonly maxBytes: number;
  /** Free bytes of the filesystem holding `dir` (injectable for tests). */
  readonly freeBytes?: (dir: string) => number;
}

export interface SweepResult {
  expired: number;
  forSpace: number;
  missing: number;
}

const DAY_MS = 86_400_000;
const BATCH = 200;
/** Rows whose file is checked per sweep (a file deleted by hand is noticed within a few sweeps). */
const MISSING_BATCH = 500;

function statfsFree(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * Keeps disk and index in step: deletes segments past their retention, the oldest closed ones
 * while the disk guard (minFreeBytes, maxBytes) is crossed, never an open one, and marks rows
 * whose file vanished `missing`.
 */
export class Retention {
  private missingCursor = 0;
  private readonly freeBytes: (dir: string) => number;

  constructor(private readonly options: RetentionOptions) {
    this.freeBytes = options.freeBytes ?? statfsFree;
  }

  /** Whether the disk guard is crossed now. */
  overLimit(total = this.options.maxBytes > 0 ? this.options.repo.totalBytes() : 0): boolean {
    const { minFreeBytes, maxBytes, store } = this.options;
    if (maxBytes > 0 && total > maxBytes) return true;
    if (minFreeBytes > 0) {
      try {
        return this.freeBytes(store.layout.root) < minFreeBytes;
      } catch {
        return false; // record.dir not there yet: nothing to delete either
      }
    }
    return false;
  }

  sweep(now = Date.now()): SweepResult {
    const result: SweepResult = { expired: this.expire(now), forSpace: 0, missing: 0 };
    result.forSpace = this.makeSpace();
    result.missing = this.checkMissing();
    if (result.expired || result.forSpace || result.missing) this.options.log.info(result, 'retention sweep');
    return result;
  }

  /** Deletes oldest closed segments while over the guard; returns how many. */
  makeSpace(): number {
    const { repo, maxBytes } = this.options;
    let total = maxBytes > 0 ? repo.totalBytes() : 0;
    let deleted = 0;
    while (this.overLimit(total)) {
      const batch = repo.oldest(BATCH);
      if (batch.length === 0) break;
      for (const row of batch) {
        if (!this.overLimit(total)) break;
        if (!this.deleteRow(row)) return deleted;
        if (row.status !== 'missing') total -= row.bytes;
        deleted++;
      }
    }
    return deleted;
  }

  /** Deletes a closed segment's file and row (HLS: rewrites its playlist). */
  deleteRow(row: RecordingRow): boolean {
    const { store, repo, log } = this.options;
    if (row.status === 'recording') return false;
    try {
      rmSync(store.layout.inside(row.file), { force: true });
    } catch (err) {
      log.warn({ file: row.file, err: errorMessage(err) }, 'recording file could not be deleted');
      return false;
    }
    repo.delete(row.id);
    if (row.format === 'hls') store.writePlaylist(row.path, row.startMs, true);
    return true;
  }

  private expire(now: number): number {
    const { repo, daysFor, shortestDays } = this.options;
    const shortest = shortestDays();
    if (shortest <= 0) return 0;
    let deleted = 0;
    // Oldest first, from the rows old enough for the shortest rule; each row checks its own.
    for (const row of repo.startedBefore(now - shortest * DAY_MS, BATCH)) {
      const days = daysFor(row.planId);
      if (days > 0 && row.startMs < now - days * DAY_MS && this.deleteRow(row)) deleted++;
    }
    // Device downloads (no plan) keep the global rule, counted from when they were downloaded.
    const downloadDays = daysFor(null);
    if (downloadDays > 0) for (const row of repo.downloadedBefore(now - downloadDays * DAY_MS, BATCH)) if (this.deleteRow(row)) deleted++;
    return deleted;
  }

  private checkMissing(): number {
    const { repo, store } = this.options;
    const rows = repo.closedAfterId(this.missingCursor, MISSING_BATCH);
    let missing = 0;
    for (const row of rows) {
      if (row.status !== 'missing' && !existsSync(store.layout.inside(row.file))) {
        repo.setStatus(row.id, 'missing');
        missing++;
      }
    }
    this.missingCursor = rows.length < MISSING_BATCH ? 0 : rows.at(-1)!.id;
    return missing;
  }
}
