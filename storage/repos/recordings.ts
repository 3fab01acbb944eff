import { localDayBounds } from '../../src/core/zoned-time';
import type Database from 'better-sqlite3';
import type { Db } from '../db';

export type RecordingFormat = 'flv' | 'ts' | 'hls';
export type RecordingStatus = 'recording' | 'complete' | 'recovered' | 'missing';

/** One recorded segment (a file; for HLS one TS segment of a folder with an index.m3u8). */
export interface RecordingRow {
  id: number;
  /** Hub path `app/stream`. */
  path: string;
  format: RecordingFormat;
  /** Relative to record.dir, forward slashes. */
  file: string;
  /** Wall clock of the first frame, ms since the epoch. */
  startMs: number;
  /** startMs + media duration. */
  endMs: number;
  durationMs: number;
  bytes: number;
  videoCodec: string | null;
  width: number | null;
  height: number | null;
  audioCodec: string | null;
  keyframes: number;
  status: RecordingStatus;
  planId: string | null;
  /** plan | manual | event | download */
  reason: string;
}

export type NewRecording = Omit<RecordingRow, 'id' | 'durationMs'>;

export interface RecordingQuery {
  path: string;
  startMs: number;
  endMs: number;
  format?: RecordingFormat;
  limit?: number;
  offset?: number;
}

/** What a writer reports while a segment grows and when it closes. */
export interface RecordingProgress {
  endMs: number;
  bytes: number;
  keyframes: number;
  status?: RecordingStatus;
}

interface Row {
  id: number;
  path: string;
  format: RecordingFormat;
  file: string;
  start_ms: number;
  end_ms: number;
  bytes: number;
  video_codec: string | null;
  width: number | null;
  height: number | null;
  audio_codec: string | null;
  keyframes: number;
  status: RecordingStatus;
  plan_id: string | null;
  reason: string;
}

function fromRow(row: Row): RecordingRow {
  return {
    id: row.id,
    path: row.path,
    format: row.format,
    file: row.file,
    startMs: row.start_ms,
    endMs: row.end_ms,
    durationMs: row.end_ms - row.start_ms,
    bytes: row.bytes,
    videoCodec: row.video_codec,
    width: row.width,
    height: row.height,
    audioCodec: row.audio_codec,
    keyframes: row.keyframes,
    status: row.status,
    planId: row.plan_id,
    reason: row.reason,
  };
}

const MAX_PAGE = 10_000;

/**
 * The recordings table (migration 4): written by the recorders and device downloads, read by
 * the API, playback and retention. A range query overlaps [startMs, endMs): it reads the index
 * from `startMs - longest segment of the path`, so a year of rows costs what one hour does.
 */
export class RecordingsRepo {
  private readonly insertOne;
  private readonly progressOne;
  private readonly selectOne;
  private readonly selectByFile;
  private readonly deleteOne;
  private readonly longest;
  private readonly selectOpen;
  private readonly selectOldest;
  private readonly selectBefore;
  private readonly selectDownloadedBefore;
  private readonly sumBytes;
  private readonly statusOne;
  private readonly selectAfterId;
  private readonly counted;
  private readonly statements = new Map<string, Database.Statement<unknown[], unknown>>();
  /** SUM(bytes) of the rows that count, kept in step by every write here (the disk guard asks each second). */
  private total: number | undefined;

  constructor(private readonly db: Db) {
    this.insertOne = db.prepare(
      `INSERT INTO recordings (path, format, file, start_ms, end_ms, bytes, video_codec, width, height, audio_codec, keyframes, status, plan_id, reason, created_at)
       VALUES (@path, @format, @file, @startMs, @endMs, @bytes, @videoCodec, @width, @height, @audioCodec, @keyframes, @status, @planId, @reason, @createdAt)`,
    );
    this.progressOne = db.prepare('UPDATE recordings SET end_ms = @endMs, bytes = @bytes, keyframes = @keyframes, status = COALESCE(@status, status) WHERE id = @id');
    this.statusOne = db.prepare<[RecordingStatus, number]>('UPDATE recordings SET status = ? WHERE id = ?');
    this.selectOne = db.prepare<[number], Row>('SELECT * FROM recordings WHERE id = ?');
    this.selectByFile = db.prepare<[string], Row>('SELECT * FROM recordings WHERE file = ?');
    this.deleteOne = db.prepare<[number]>('DELETE FROM recordings WHERE id = ?');
    this.longest = db.prepare<[string], { span: number | null }>('SELECT MAX(end_ms - start_ms) AS span FROM recordings WHERE path = ?');
    this.selectOpen = db.prepare<[], Row>(`SELECT * FROM recordings WHERE status = 'recording' ORDER BY id`);
    this.selectOldest = db.prepare<[number], Row>(`SELECT * FROM recordings WHERE status IN ('complete', 'recovered', 'missing') ORDER BY start_ms LIMIT ?`);
    // A downloaded device clip's start is the device's time, maybe long past: it ages from when it was downloaded.
    this.selectBefore = db.prepare<[number, number], Row>(
      `SELECT * FROM recordings WHERE start_ms < ? AND status <> 'recording' AND reason <> 'download' ORDER BY start_ms LIMIT ?`,
    );
    this.selectDownloadedBefore = db.prepare<[number, number], Row>(
      `SELECT * FROM recordings WHERE reason = 'download' AND created_at < ? AND status <> 'recording' ORDER BY created_at LIMIT ?`,
    );
    this.selectAfterId = db.prepare<[number, number], Row>(`SELECT * FROM recordings WHERE id > ? AND status <> 'recording' ORDER BY id LIMIT ?`);
    this.counted = db.prepare<[number], { bytes: number; status: RecordingStatus }>('SELECT bytes, status FROM recordings WHERE id = ?');
    this.sumBytes = db.prepare<[], { total: number | null }>(`SELECT SUM(bytes) AS total FROM recordings WHERE status <> 'missing'`);
  }

  /** Adds a row; returns its id. */
  insert(recording: NewRecording, now = Date.now()): number {
    const id = Number(this.insertOne.run({ ...recording, createdAt: now }).lastInsertRowid);
    this.adjust(undefined, recording);
    return id;
  }

  /** A growing or closing segment: end, size, keyframes, and optionally a new status. */
  progress(id: number, progress: RecordingProgress): void {
    const before = this.counted.get(id);
    this.progressOne.run({ id, endMs: progress.endMs, bytes: progress.bytes, keyframes: progress.keyframes, status: progress.status ?? null });
    if (before) this.adjust(before, { bytes: progress.bytes, status: progress.status ?? before.status });
  }

  setStatus(id: number, status: RecordingStatus): void {
    const before = this.counted.get(id);
    this.statusOne.run(status, id);
    if (before) this.adjust(before, { bytes: before.bytes, status });
  }

  get(id: number): RecordingRow | undefined {
    const row = this.selectOne.get(id);
    return row ? fromRow(row) : undefined;
  }

  byFile(file: string): RecordingRow | undefined {
    const row = this.selectByFile.get(file);
    return row ? fromRow(row) : undefined;
  }

  delete(id: number): boolean {
    const before = this.counted.get(id);
    const deleted = this.deleteOne.run(id).changes > 0;
    if (before && deleted) this.adjust(before, undefined);
    return deleted;
  }

  /** Segments of `path` overlapping [startMs, endMs), ordered by startMs. */
  find(query: RecordingQuery): RecordingRow[] {
    const { sql, params } = this.rangeSql(query, 'SELECT *');
    const limit = Math.min(Math.max(query.limit ?? MAX_PAGE, 0), MAX_PAGE);
    const rows = this.statement<Row>(`${sql} ORDER BY start_ms, id LIMIT ? OFFSET ?`).all(...params, limit, Math.max(query.offset ?? 0, 0));
    return rows.map(fromRow);
  }

  /** How many segments `find` would return without limit and offset. */
  count(query: RecordingQuery): number {
    const { sql, params } = this.rangeSql(query, 'SELECT COUNT(*) AS n');
    return this.statement<{ n: number }>(sql).get(...params)?.n ?? 0;
  }

  /**
   * The local dates (`YYYY-MM-DD` in `timeZone`) in [monthStartMs, monthEndMs) on which `path`
   * has a segment: one indexed existence check per day.
   */
  days(path: string, monthStartMs: number, monthEndMs: number, timeZone: string): string[] {
    const out: string[] = [];
    let cursor = monthStartMs;
    for (let guard = 0; cursor < monthEndMs && guard < 400; guard++) {
      const day = localDayBounds(cursor, timeZone);
      const from = Math.max(day.start, monthStartMs);
      const to = Math.min(day.end, monthEndMs);
      if (this.find({ path, startMs: from, endMs: to, limit: 1 }).length > 0) out.push(day.date);
      cursor = day.end;
    }
    return out;
  }

  /** Rows left `recording` (by a crash): recovery scans their files. */
  open(): RecordingRow[] {
    return this.selectOpen.all().map(fromRow);
  }

  /** Closed segments, oldest first (the disk guard deletes from here). */
  oldest(limit: number): RecordingRow[] {
    return this.selectOldest.all(limit).map(fromRow);
  }

  /** Closed segments that started before `beforeMs`, oldest first (downloads aside: see downloadedBefore). */
  startedBefore(beforeMs: number, limit: number): RecordingRow[] {
    return this.selectBefore.all(beforeMs, limit).map(fromRow);
  }

  /** Closed segments of device downloads written before `beforeMs`, oldest download first. */
  downloadedBefore(beforeMs: number, limit: number): RecordingRow[] {
    return this.selectDownloadedBefore.all(beforeMs, limit).map(fromRow);
  }

  /** Closed segments with an id above `afterId`, by id (the missing-file sweep walks these). */
  closedAfterId(afterId: number, limit: number): RecordingRow[] {
    return this.selectAfterId.all(afterId, limit).map(fromRow);
  }

  /** Bytes of every segment whose file should exist. */
  totalBytes(): number {
    this.total ??= this.sumBytes.get()?.total ?? 0;
    return this.total;
  }

  /** Moves the cached total from a row's old bytes/status to its new ones (undefined: no row). */
  private adjust(before: { bytes: number; status: RecordingStatus } | undefined, after: { bytes: number; status: RecordingStatus } | undefined): void {
    if (this.total === undefined) return;
    const counts = (r: { bytes: number; status: RecordingStatus } | undefined): number => (r && r.status !== 'missing' ? r.bytes : 0);
    this.total += counts(after) - counts(before);
  }

  /** The range queries come in four shapes (with/without format, rows/count): prepared once each. */
  private statement<R>(sql: string): Database.Statement<unknown[], R> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[], unknown>(sql);
      this.statements.set(sql, statement);
    }
    return statement as Database.Statement<unknown[], R>;
  }

  private rangeSql(query: RecordingQuery, select: string): { sql: string; params: unknown[] } {
    const span = this.longest.get(query.path)?.span ?? 0;
    const params: unknown[] = [query.path, query.startMs - span, query.endMs, query.startMs];
    let sql = `${select} FROM recordings WHERE path = ? AND start_ms >= ? AND start_ms < ? AND end_ms > ?`;
    if (query.format) {
      sql += ' AND format = ?';
      params.push(query.format);
    }
    return { sql, params };
  }
}
