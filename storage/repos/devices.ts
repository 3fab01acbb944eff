import type { GbDevice, GbDevicePatch, SipTransportName, StreamMode } from '../../src/core/gb28181';
import type { Db } from '../db';

export interface DeviceQuery {
  page?: number;
  count?: number;
  /** Matches id, name, manufacturer, model or address. */
  q?: string;
  online?: boolean;
}

const COLUMNS: Record<keyof GbDevicePatch, string> = {
  name: 'name',
  manufacturer: 'manufacturer',
  model: 'model',
  firmware: 'firmware',
  transport: 'transport',
  address: 'address',
  charset: 'charset',
  streamMode: 'stream_mode',
  password: 'password',
  noAuth: 'no_auth',
  provisioned: 'provisioned',
  online: 'online',
  callId: 'call_id',
  registeredAt: 'registered_at',
  keepaliveAt: 'keepalive_at',
  expires: 'expires',
  heartbeatInterval: 'heartbeat_interval',
  heartbeatCount: 'heartbeat_count',
  onlineAt: 'online_at',
  offlineAt: 'offline_at',
  offlineReason: 'offline_reason',
  catalogAt: 'catalog_at',
};
const BOOLEAN_FIELDS = new Set<keyof GbDevicePatch>(['noAuth', 'provisioned', 'online']);

interface DeviceRow {
  id: string;
  name: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  transport: SipTransportName;
  address: string | null;
  charset: string;
  stream_mode: StreamMode;
  password: string | null;
  no_auth: number;
  provisioned: number;
  online: number;
  call_id: string | null;
  registered_at: number | null;
  keepalive_at: number | null;
  expires: number | null;
  heartbeat_interval: number | null;
  heartbeat_count: number | null;
  online_at: number | null;
  offline_at: number | null;
  offline_reason: string | null;
  catalog_at: number | null;
  channel_count: number;
  created_at: number;
  updated_at: number;
}

function fromRow(row: DeviceRow): GbDevice {
  return {
    id: row.id,
    name: row.name,
    manufacturer: row.manufacturer,
    model: row.model,
    firmware: row.firmware,
    transport: row.transport,
    address: row.address,
    charset: row.charset,
    streamMode: row.stream_mode,
    password: row.password,
    noAuth: row.no_auth === 1,
    provisioned: row.provisioned === 1,
    online: row.online === 1,
    callId: row.call_id,
    registeredAt: row.registered_at,
    keepaliveAt: row.keepalive_at,
    expires: row.expires,
    heartbeatInterval: row.heartbeat_interval,
    heartbeatCount: row.heartbeat_count,
    onlineAt: row.online_at,
    offlineAt: row.offline_at,
    offlineReason: row.offline_reason,
    catalogAt: row.catalog_at,
    channelCount: row.channel_count,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toColumnValue(field: keyof GbDevicePatch, value: unknown): unknown {
  if (BOOLEAN_FIELDS.has(field)) return value ? 1 : 0;
  return value ?? null;
}

/** `LIKE` pattern for a user search string, with its wildcards escaped. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** GB28181 devices in SQLite (table gb_devices). Synchronous: better-sqlite3. */
export class DeviceRepo {
  private readonly getStmt;
  private readonly deleteStmt;
  private readonly statements = new Map<string, ReturnType<Db['prepare']>>();
  private readonly queue: (() => void)[] = [];
  /** Devices with queued writes: reading one of them commits the queue first. */
  private readonly pendingIds = new Set<string>();
  private readonly commit;

  constructor(private readonly db: Db) {
    this.getStmt = db.prepare<[string], DeviceRow>('SELECT * FROM gb_devices WHERE id = ?');
    this.deleteStmt = db.prepare<[string]>('DELETE FROM gb_devices WHERE id = ?');
    this.commit = db.transaction((writes: (() => void)[]) => {
      for (const write of writes) {
        try {
          write();
        } catch (err) {
          // One bad write (a device deleted meanwhile) must not lose the others or throw from a timer.
          this.failedWrites++;
          this.lastWriteError = err instanceof Error ? err.message : String(err);
        }
      }
    });
  }

  get(id: string): GbDevice | undefined {
    if (this.pendingIds.has(id)) this.flush();
    const row = this.getStmt.get(id);
    return row ? fromRow(row) : undefined;
  }

  list(query: DeviceQuery = {}): { total: number; items: GbDevice[] } {
    this.flush();
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.q) {
      where.push(`(id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR manufacturer LIKE ? ESCAPE '\\' OR model LIKE ? ESCAPE '\\' OR address LIKE ? ESCAPE '\\')`);
      params.push(...Array(5).fill(likePattern(query.q)));
    }
    if (query.online !== undefined) {
      where.push('online = ?');
      params.push(query.online ? 1 : 0);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM gb_devices ${clause}`).get(...params) as { n: number }).n;
    const count = query.count ?? 100;
    const offset = ((query.page ?? 1) - 1) * count;
    const rows = this.db.prepare(`SELECT * FROM gb_devices ${clause} ORDER BY id LIMIT ? OFFSET ?`).all(...params, count, offset) as DeviceRow[];
    return { total, items: rows.map(fromRow) };
  }

  /** Every device the store believes online (to restore registrations after a restart). */
  listOnline(): GbDevice[] {
    this.flush();
    return (this.db.prepare('SELECT * FROM gb_devices WHERE online = 1').all() as DeviceRow[]).map(fromRow);
  }

  /** Creates a device; returns undefined if the id exists. */
  create(id: string, fields: GbDevicePatch, now = Date.now()): GbDevice | undefined {
    this.flush();
    const result = this.prepared('INSERT INTO gb_devices (id, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING').run([id, now, now]);
    if (result.changes === 0) return undefined;
    return this.update(id, fields, now);
  }

  /** Updates the given fields; returns the new record (undefined if the device does not exist). */
  update(id: string, patch: GbDevicePatch, now = Date.now()): GbDevice | undefined {
    this.flush();
    this.writeSet(id, patch, now);
    return this.get(id);
  }

  /**
   * Updates the given fields without reading the record back (the signalling hot path). The
   * write is queued and committed with the others of this event-loop turn in one transaction;
   * every read of this repo commits the queue first.
   */
  set(id: string, patch: GbDevicePatch, now = Date.now()): void {
    this.enqueue(id, () => this.writeSet(id, patch, now));
  }

  /** Creates or updates (a device registering is stored), queued like set(). */
  upsert(id: string, patch: GbDevicePatch, now = Date.now()): void {
    this.enqueue(id, () => this.writeUpsert(id, patch, now));
  }

  /** Commits the queued writes now (before closing the database, before dependent writes). */
  flush(): void {
    if (this.queue.length === 0) return;
    const writes = this.queue.splice(0);
    this.pendingIds.clear();
    if (!this.db.open) return;
    this.commit(writes);
  }

  private enqueue(id: string, write: () => void): void {
    this.queue.push(write);
    this.pendingIds.add(id);
    if (this.queue.length === 1) setImmediate(() => this.flush());
  }

  /** Queued writes that failed, and the last reason (for diagnostics). */
  failedWrites = 0;
  lastWriteError: string | undefined;

  private writeSet(id: string, patch: GbDevicePatch, now: number): void {
    const fields = this.fieldsOf(patch);
    if (fields.length === 0) return;
    const sets = fields.map((f) => `${COLUMNS[f]} = ?`).join(', ');
    this.prepared(`UPDATE gb_devices SET ${sets}, updated_at = ? WHERE id = ?`).run([...fields.map((f) => toColumnValue(f, patch[f])), now, id]);
  }

  private writeUpsert(id: string, patch: GbDevicePatch, now: number): void {
    const fields = this.fieldsOf(patch);
    const columns = fields.map((f) => COLUMNS[f]);
    const updates = columns.length ? `${columns.map((c) => `${c} = excluded.${c}`).join(', ')}, ` : '';
    const sql = `INSERT INTO gb_devices (id, ${columns.map((c) => `${c}, `).join('')}created_at, updated_at) VALUES (?, ${columns.map(() => '?, ').join('')}?, ?)
      ON CONFLICT (id) DO UPDATE SET ${updates}updated_at = excluded.updated_at`;
    this.prepared(sql).run([id, ...fields.map((f) => toColumnValue(f, patch[f])), now, now]);
  }

  private fieldsOf(patch: GbDevicePatch): (keyof GbDevicePatch)[] {
    return (Object.keys(patch) as (keyof GbDevicePatch)[]).filter((f) => COLUMNS[f] && patch[f] !== undefined);
  }

  private prepared(sql: string): ReturnType<Db['prepare']> {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  delete(id: string): boolean {
    this.flush();
    return this.deleteStmt.run(id).changes > 0;
  }
}
