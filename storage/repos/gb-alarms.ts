import type { GbAlarmFields } from '../../src/core/gb28181';
import type { Db } from '../db';

/** A device alarm as stored (migration 005). */
export interface AlarmRecord extends GbAlarmFields {
  id: number;
}

export type AlarmInput = Omit<AlarmRecord, 'id'>;

export interface AlarmQuery {
  deviceId?: string;
  startMs?: number;
  endMs?: number;
  limit?: number;
  offset?: number;
}

interface Row {
  id: number;
  device_id: string;
  channel_id: string;
  priority: number | null;
  method: number | null;
  type: number | null;
  alarm_at: number;
  received_at: number;
  description: string | null;
  longitude: number | null;
  latitude: number | null;
}

function fromRow(r: Row): AlarmRecord {
  return {
    id: r.id,
    deviceId: r.device_id,
    channelId: r.channel_id,
    priority: r.priority,
    method: r.method,
    type: r.type,
    alarmAt: r.alarm_at,
    receivedAt: r.received_at,
    description: r.description,
    longitude: r.longitude,
    latitude: r.latitude,
  };
}

/** Most alarms kept; the oldest go first (a device in an alarm storm cannot fill the disk). */
export const MAX_ALARMS = 1_000_000;

/** The gb_alarms table. */
export class AlarmRepo {
  private readonly insertOne;
  private readonly trim;
  private inserted = 0;

  constructor(private readonly db: Db) {
    this.insertOne = db.prepare(
      `INSERT INTO gb_alarms (device_id, channel_id, priority, method, type, alarm_at, received_at, description, longitude, latitude)
       VALUES (@deviceId, @channelId, @priority, @method, @type, @alarmAt, @receivedAt, @description, @longitude, @latitude)`,
    );
    this.trim = db.prepare(`DELETE FROM gb_alarms WHERE id <= (SELECT MAX(id) FROM gb_alarms) - ${MAX_ALARMS}`);
  }

  add(alarm: AlarmInput): number {
    const { deviceId, channelId, priority, method, type, alarmAt, receivedAt, description, longitude, latitude } = alarm;
    const id = Number(this.insertOne.run({ deviceId, channelId, priority, method, type, alarmAt, receivedAt, description, longitude, latitude }).lastInsertRowid);
    if (++this.inserted % 1000 === 0) this.trim.run();
    return id;
  }

  /** Newest first. */
  find(query: AlarmQuery = {}): { total: number; items: AlarmRecord[] } {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    const filter = (sql: string, name: string, value: string | number): void => {
      where.push(sql);
      params[name] = value;
    };
    if (query.deviceId) filter('device_id = @deviceId', 'deviceId', query.deviceId);
    if (query.startMs !== undefined) filter('alarm_at >= @startMs', 'startMs', query.startMs);
    if (query.endMs !== undefined) filter('alarm_at < @endMs', 'endMs', query.endMs);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM gb_alarms ${clause}`).get(params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM gb_alarms ${clause} ORDER BY alarm_at DESC, id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: query.limit ?? 100, offset: query.offset ?? 0 }) as Row[];
    return { total, items: rows.map(fromRow) };
  }
}
