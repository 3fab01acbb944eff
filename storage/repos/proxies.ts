import type { Db } from '../db';

export type ProxyTransport = 'auto' | 'tcp' | 'udp';

/** An RTSP pull proxy added through the API (config-declared ones are not stored). */
export interface ProxyRecord {
  readonly id: string;
  /** The hub path it publishes, `app/stream`. Unique. */
  readonly path: string;
  /** `rtsp://[user:pass@]host[:port]/...`; the password is kept as given (the camera needs it). */
  readonly url: string;
  readonly transport: ProxyTransport;
  readonly onDemand: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type ProxyPatch = Partial<Pick<ProxyRecord, 'path' | 'url' | 'transport' | 'onDemand'>>;

interface Row {
  id: string;
  path: string;
  url: string;
  transport: ProxyTransport;
  on_demand: number;
  created_at: number;
  updated_at: number;
}

function fromRow(row: Row): ProxyRecord {
  return { id: row.id, path: row.path, url: row.url, transport: row.transport, onDemand: row.on_demand === 1, createdAt: row.created_at, updatedAt: row.updated_at };
}

const PATCH_COLUMNS: Record<keyof ProxyPatch, string> = { path: 'path', url: 'url', transport: 'transport', onDemand: 'on_demand' };

/** The rtsp_proxies table (migration 3). */
export class ProxyRepo {
  private readonly selectAll;
  private readonly selectOne;
  private readonly insertOne;
  private readonly deleteOne;

  constructor(private readonly db: Db) {
    this.selectAll = db.prepare<[], Row>('SELECT * FROM rtsp_proxies ORDER BY created_at, id');
    this.selectOne = db.prepare<[string], Row>('SELECT * FROM rtsp_proxies WHERE id = ?');
    this.insertOne = db.prepare(
      'INSERT INTO rtsp_proxies (id, path, url, transport, on_demand, created_at, updated_at) VALUES (@id, @path, @url, @transport, @onDemand, @createdAt, @updatedAt)',
    );
    this.deleteOne = db.prepare('DELETE FROM rtsp_proxies WHERE id = ?');
  }

  list(): ProxyRecord[] {
    return this.selectAll.all().map(fromRow);
  }

  get(id: string): ProxyRecord | undefined {
    const row = this.selectOne.get(id);
    return row ? fromRow(row) : undefined;
  }

  /** Throws better-sqlite3's SQLITE_CONSTRAINT_UNIQUE when the path or id is taken. */
  insert(record: ProxyRecord): void {
    this.insertOne.run({ ...record, onDemand: record.onDemand ? 1 : 0 });
  }

  /** Applies `patch`; returns the new record, or undefined when there is no such proxy. */
  update(id: string, patch: ProxyPatch, now = Date.now()): ProxyRecord | undefined {
    const sets: string[] = [];
    const values: Record<string, unknown> = { id, updatedAt: now };
    for (const [key, column] of Object.entries(PATCH_COLUMNS) as [keyof ProxyPatch, string][]) {
      const value = patch[key];
      if (value === undefined) continue;
      sets.push(`${column} = @${key}`);
      values[key] = typeof value === 'boolean' ? Number(value) : value;
    }
    sets.push('updated_at = @updatedAt');
    const result = this.db.prepare(`UPDATE rtsp_proxies SET ${sets.join(', ')} WHERE id = @id`).run(values);
    return result.changes > 0 ? this.get(id) : undefined;
  }

  delete(id: string): boolean {
    return this.deleteOne.run(id).changes > 0;
  }
}
