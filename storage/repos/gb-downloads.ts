import type { Db } from '../db';

export type DownloadState = 'starting' | 'downloading' | 'complete' | 'cancelled' | 'failed';

/** A GB28181 download as stored (migration 008). Times are epoch ms; startMs/endMs are the range asked of the device. */
export interface DownloadRecord {
  id: number;
  deviceId: string;
  channelId: string;
  /** The recording path its media is written under. */
  path: string;
  startMs: number;
  endMs: number;
  speed: number;
  state: DownloadState;
  error: string | null;
  /** Media received so far (the clip's own clock). */
  mediaMs: number;
  bytes: number;
  /** What the device announced (`a=filesize` of its answer), if it did. */
  fileSize: number | null;
  recordingIds: number[];
  createdAt: number;
  /** When the first media arrived. */
  mediaAt: number | null;
  endedAt: number | null;
}

export type DownloadInput = Pick<DownloadRecord, 'deviceId' | 'channelId' | 'path' | 'startMs' | 'endMs' | 'speed'>;
export type DownloadPatch = Partial<Pick<DownloadRecord, 'state' | 'error' | 'mediaMs' | 'bytes' | 'fileSize' | 'recordingIds' | 'mediaAt' | 'endedAt'>>;

export interface DownloadQuery {
  deviceId?: string;
  state?: DownloadState;
  limit?: number;
  offset?: number;
}

interface Row {
  id: number;
  device_id: string;
  channel_id: string;
  path: string;
  start_ms: number;
  end_ms: number;
  speed: number;
  state: DownloadState;
  error: string | null;
  media_ms: number;
  bytes: number;
  file_size: number | null;
  recording_ids: string;
  created_at: number;
  media_at: number | null;
  ended_at: number | null;
}

const COLUMNS: Record<keyof DownloadPatch, string> = {
  state: 'state',
  error: 'error',
  mediaMs: 'media_ms',
  bytes: 'bytes',
  fileSize: 'file_size',
  recordingIds: 'recording_ids',
  mediaAt: 'media_at',
  endedAt: 'ended_at',
};

function idsOf(text: string): number[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((n): n is number => Number.isInteger(n)) : [];
  } catch {
    return [];
  }
}

function fromRow(r: Row): DownloadRecord {
  return {
    id: r.id,
    deviceId: r.device_id,
    channelId: r.channel_id,
    path: r.path,
    startMs: r.start_ms,
    endMs: r.end_ms,
    speed: r.speed,
    state: r.state,
    error: r.error,
    mediaMs: r.media_ms,
    bytes: r.bytes,
    fileSize: r.file_size,
    recordingIds: idsOf(r.recording_ids),
    createdAt: r.created_at,
    mediaAt: r.media_at,
    endedAt: r.ended_at,
  };
}

/** The gb_downloads table: written by the download manager, read by the API. */
export class DownloadRepo {
  private readonly insertOne;
  private readonly selectOne;
  private readonly deleteOne;
  private readonly failOpen;

  constructor(private readonly db: Db) {
    this.insertOne = db.prepare(
      `INSERT INTO gb_downloads (device_id, channel_id, path, start_ms, end_ms, speed, state, created_at)
       VALUES (@deviceId, @channelId, @path, @startMs, @endMs, @speed, 'starting', @createdAt)`,
    );
    this.selectOne = db.prepare<[number], Row>('SELECT * FROM gb_downloads WHERE id = ?');
    this.deleteOne = db.prepare<[number]>('DELETE FROM gb_downloads WHERE id = ?');
    this.failOpen = db.prepare<[string, number]>(`UPDATE gb_downloads SET state = 'failed', error = ?, ended_at = ? WHERE state IN ('starting', 'downloading')`);
  }

  insert(input: DownloadInput, now = Date.now()): number {
    return Number(this.insertOne.run({ ...input, createdAt: now }).lastInsertRowid);
  }

  update(id: number, patch: DownloadPatch): void {
    const keys = (Object.keys(patch) as (keyof DownloadPatch)[]).filter((k) => patch[k] !== undefined);
    if (keys.length === 0) return;
    const params: Record<string, unknown> = { id };
    for (const key of keys) params[key] = key === 'recordingIds' ? JSON.stringify(patch.recordingIds) : patch[key];
    // The column names come from COLUMNS, never from the caller.
    this.db.prepare(`UPDATE gb_downloads SET ${keys.map((k) => `${COLUMNS[k]} = @${k}`).join(', ')} WHERE id = @id`).run(params);
  }

  get(id: number): DownloadRecord | undefined {
    const row = this.selectOne.get(id);
    return row ? fromRow(row) : undefined;
  }

  /** Newest first. */
  find(query: DownloadQuery = {}): { total: number; items: DownloadRecord[] } {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (query.deviceId) {
      where.push('device_id = @deviceId');
      params.deviceId = query.deviceId;
    }
    if (query.state) {
      where.push('state = @state');
      params.state = query.state;
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM gb_downloads ${clause}`).get(params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM gb_downloads ${clause} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: query.limit ?? 100, offset: query.offset ?? 0 }) as Row[];
    return { total, items: rows.map(fromRow) };
  }

  remove(id: number): boolean {
    return this.deleteOne.run(id).changes > 0;
  }

  /** Downloads a stopped gateway left running: failed, with why. Returns how many. */
  failUnfinished(reason: string, now = Date.now()): number {
    return this.failOpen.run(reason, now).changes;
  }
}
