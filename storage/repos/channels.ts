import type { GbCatalogDiff, GbCatalogEvent, GbCatalogItem, GbChannel, GbChannelKind } from '../../src/core/gb28181';
import type { Db } from '../db';
import { likePattern } from './devices';

export interface ChannelQuery {
  page?: number;
  count?: number;
  q?: string;
  /** Channel reported online and its device online. */
  online?: boolean;
  kind?: GbChannelKind;
  includeGone?: boolean;
}

interface ChannelRow {
  device_id: string;
  id: string;
  kind: GbChannelKind;
  name: string | null;
  parent_id: string | null;
  civil_code: string | null;
  business_group_id: string | null;
  manufacturer: string | null;
  model: string | null;
  owner: string | null;
  address: string | null;
  ip_address: string | null;
  port: number | null;
  status: string | null;
  online: number;
  ptz_type: number | null;
  longitude: number | null;
  latitude: number | null;
  gone: number;
  raw: string;
  created_at: number;
  updated_at: number;
}

function fromRow(row: ChannelRow): GbChannel {
  let raw: Record<string, unknown> = {};
  try {
    raw = JSON.parse(row.raw) as Record<string, unknown>;
  } catch {
    // a row written by hand: keep the rest
  }
  const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
  return {
    deviceId: row.device_id,
    id: row.id,
    kind: row.kind,
    name: opt(row.name),
    parentId: opt(row.parent_id),
    civilCode: opt(row.civil_code),
    businessGroupId: opt(row.business_group_id),
    manufacturer: opt(row.manufacturer),
    model: opt(row.model),
    owner: opt(row.owner),
    address: opt(row.address),
    ipAddress: opt(row.ip_address),
    port: opt(row.port),
    status: opt(row.status),
    online: row.online === 1,
    ptzType: opt(row.ptz_type),
    longitude: opt(row.longitude),
    latitude: opt(row.latitude),
    gone: row.gone === 1,
    raw,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const UPSERT = `
  INSERT INTO gb_channels (device_id, id, kind, name, parent_id, civil_code, business_group_id, manufacturer, model, owner,
    address, ip_address, port, status, online, ptz_type, longitude, latitude, gone, raw, created_at, updated_at)
  VALUES (@deviceId, @id, @kind, @name, @parentId, @civilCode, @businessGroupId, @manufacturer, @model, @owner,
    @address, @ipAddress, @port, @status, @online, @ptzType, @longitude, @latitude, 0, @raw, @now, @now)
  ON CONFLICT (device_id, id) DO UPDATE SET kind = excluded.kind, name = excluded.name, parent_id = excluded.parent_id,
    civil_code = excluded.civil_code, business_group_id = excluded.business_group_id, manufacturer = excluded.manufacturer,
    model = excluded.model, owner = excluded.owner, address = excluded.address, ip_address = excluded.ip_address,
    port = excluded.port, status = excluded.status, online = excluded.online, ptz_type = excluded.ptz_type,
    longitude = excluded.longitude, latitude = excluded.latitude, gone = 0, raw = excluded.raw, updated_at = excluded.updated_at`;

/** The catalog of every device (table gb_channels): channels and tree nodes. */
export class ChannelRepo {
  private readonly upsertStmt;
  private readonly idsStmt;
  private readonly goneStmt;
  private readonly statusStmt;
  private readonly countStmt;

  /** `devices`: its queued writes are committed before ours (a channel needs its device row). */
  constructor(
    private readonly db: Db,
    private readonly devices?: { flush(): void },
  ) {
    this.upsertStmt = db.prepare(UPSERT);
    this.idsStmt = db.prepare<[string], { id: string; gone: number }>('SELECT id, gone FROM gb_channels WHERE device_id = ?');
    this.goneStmt = db.prepare<[number, string, string]>('UPDATE gb_channels SET gone = 1, online = 0, updated_at = ? WHERE device_id = ? AND id = ?');
    this.statusStmt = db.prepare<[string, number, number, string, string]>('UPDATE gb_channels SET status = ?, online = ?, updated_at = ? WHERE device_id = ? AND id = ?');
    this.countStmt = db.prepare<[string, string]>(
      `UPDATE gb_devices SET channel_count = (SELECT COUNT(*) FROM gb_channels WHERE device_id = ? AND gone = 0 AND kind = 'device') WHERE id = ?`,
    );
  }

  get(deviceId: string, id: string): GbChannel | undefined {
    const row = this.db.prepare('SELECT * FROM gb_channels WHERE device_id = ? AND id = ?').get(deviceId, id) as ChannelRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Channels of one device (`deviceId`) or of all devices. */
  list(query: ChannelQuery & { deviceId?: string } = {}): { total: number; items: GbChannel[] } {
    this.devices?.flush();
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.deviceId !== undefined) {
      where.push('c.device_id = ?');
      params.push(query.deviceId);
    }
    if (!query.includeGone) where.push('c.gone = 0');
    if (query.kind) {
      where.push('c.kind = ?');
      params.push(query.kind);
    }
    if (query.q) {
      where.push(`(c.id LIKE ? ESCAPE '\\' OR c.name LIKE ? ESCAPE '\\' OR c.address LIKE ? ESCAPE '\\')`);
      params.push(...Array(3).fill(likePattern(query.q)));
    }
    if (query.online !== undefined) where.push(query.online ? '(c.online = 1 AND d.online = 1)' : '(c.online = 0 OR d.online = 0)');
    const clause = `FROM gb_channels c JOIN gb_devices d ON d.id = c.device_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const total = (this.db.prepare(`SELECT COUNT(*) AS n ${clause}`).get(...params) as { n: number }).n;
    const count = query.count ?? 100;
    const offset = ((query.page ?? 1) - 1) * count;
    const rows = this.db.prepare(`SELECT c.* ${clause} ORDER BY c.device_id, c.id LIMIT ? OFFSET ?`).all(...params, count, offset) as ChannelRow[];
    return { total, items: rows.map(fromRow) };
  }

  /**
   * Stores a catalog answer in one transaction. When `complete` (every item the device announced
   * arrived), entries the device no longer lists are marked gone.
   */
  applyCatalog(deviceId: string, items: readonly GbCatalogItem[], complete: boolean, now = Date.now()): GbCatalogDiff {
    this.devices?.flush();
    return this.db.transaction(() => {
      const existing = new Map(this.idsStmt.all(deviceId).map((r) => [r.id, r.gone === 1]));
      const seen = new Set<string>();
      let added = 0;
      let updated = 0;
      for (const item of items) {
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        const wasGone = existing.get(item.id);
        if (wasGone === undefined || wasGone) added++;
        else updated++;
        this.upsertStmt.run(this.params(deviceId, item, now));
      }
      const removedIds: string[] = [];
      if (complete) {
        for (const [id, gone] of existing) {
          if (gone || seen.has(id)) continue;
          this.goneStmt.run(now, deviceId, id);
          removedIds.push(id);
        }
      }
      this.countStmt.run(deviceId, deviceId);
      const total = this.idsStmt.all(deviceId).filter((r) => r.gone === 0).length;
      return { added, updated, removed: removedIds.length, total, removedIds };
    })();
  }

  /** Applies a catalog NOTIFY (GB/T 28181-2016 §9.6.4: ADD, DEL, UPDATE, ON, OFF, VLOST, DEFECT). */
  applyEvent(deviceId: string, event: GbCatalogEvent, items: readonly GbCatalogItem[], now = Date.now()): GbCatalogDiff {
    this.devices?.flush();
    return this.db.transaction(() => {
      const existing = new Map(this.idsStmt.all(deviceId).map((r) => [r.id, r.gone === 1]));
      let added = 0;
      let updated = 0;
      const removedIds: string[] = [];
      for (const item of items) {
        const known = existing.has(item.id) && !existing.get(item.id);
        if (event === 'ADD' || event === 'UPDATE') {
          this.upsertStmt.run(this.params(deviceId, item, now));
          if (known) updated++;
          else added++;
        } else if (event === 'DEL') {
          if (known) {
            this.goneStmt.run(now, deviceId, item.id);
            removedIds.push(item.id);
          }
        } else if (known) {
          this.statusStmt.run(event, event === 'ON' ? 1 : 0, now, deviceId, item.id);
          updated++;
        }
      }
      this.countStmt.run(deviceId, deviceId);
      const total = this.idsStmt.all(deviceId).filter((r) => r.gone === 0).length;
      return { added, updated, removed: removedIds.length, total, removedIds };
    })();
  }

  private params(deviceId: string, item: GbCatalogItem, now: number): Record<string, unknown> {
    return {
      deviceId,
      id: item.id,
      kind: item.kind,
      name: item.name ?? null,
      parentId: item.parentId ?? null,
      civilCode: item.civilCode ?? null,
      businessGroupId: item.businessGroupId ?? null,
      manufacturer: item.manufacturer ?? null,
      model: item.model ?? null,
      owner: item.owner ?? null,
      address: item.address ?? null,
      ipAddress: item.ipAddress ?? null,
      port: item.port ?? null,
      status: item.status ?? null,
      online: item.online ? 1 : 0,
      ptzType: item.ptzType ?? null,
      longitude: item.longitude ?? null,
      latitude: item.latitude ?? null,
      raw: JSON.stringify(item.raw),
      now,
    };
  }
}
