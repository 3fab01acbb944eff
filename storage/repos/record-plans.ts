import type { Db } from '../db';
import type { RecordingFormat } from './recordings';

/**
 * A record plan: which streams, which formats, when. `when` is `always`, `weekly` (the
 * `weekly` text: `mon-fri 08:00-18:00; sat,sun 10:00-12:00`) or `cron` (`cron` holds one or
 * more expressions separated by `;`, each opening a window of `duration` seconds).
 */
export interface RecordPlan {
  readonly id: string;
  readonly enabled: boolean;
  /** Exact paths (`live/cam1`), patterns (`live/*`) or GB28181 device/channel ids (20 digits). */
  readonly streams: readonly string[];
  readonly formats: readonly RecordingFormat[];
  readonly when: 'always' | 'weekly' | 'cron';
  readonly weekly: string;
  readonly cron: string;
  /** Seconds each cron window lasts. */
  readonly duration: number;
  /** 0: record.segmentSeconds. */
  readonly segmentSeconds: number;
  /** 0: record.deleteAfterDays. */
  readonly deleteAfterDays: number;
  /** Seconds of media kept in memory for event recordings of these streams (0: none). */
  readonly preRoll: number;
}

export interface StoredPlan {
  readonly plan: RecordPlan;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  id: string;
  spec: string;
  created_at: number;
  updated_at: number;
}

function fromRow(row: Row): StoredPlan {
  return { plan: { ...(JSON.parse(row.spec) as RecordPlan), id: row.id }, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** Record plans made through the API (migration 4); plans from the config are not stored. */
export class RecordPlanRepo {
  private readonly selectAll;
  private readonly selectOne;
  private readonly upsertOne;
  private readonly deleteOne;

  constructor(db: Db) {
    this.selectAll = db.prepare<[], Row>('SELECT * FROM record_plans ORDER BY created_at, id');
    this.selectOne = db.prepare<[string], Row>('SELECT * FROM record_plans WHERE id = ?');
    this.upsertOne = db.prepare(
      'INSERT INTO record_plans (id, spec, created_at, updated_at) VALUES (@id, @spec, @now, @now) ON CONFLICT(id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at',
    );
    this.deleteOne = db.prepare<[string]>('DELETE FROM record_plans WHERE id = ?');
  }

  list(): StoredPlan[] {
    return this.selectAll.all().map(fromRow);
  }

  get(id: string): StoredPlan | undefined {
    const row = this.selectOne.get(id);
    return row ? fromRow(row) : undefined;
  }

  save(plan: RecordPlan, now = Date.now()): void {
    this.upsertOne.run({ id: plan.id, spec: JSON.stringify(plan), now });
  }

  delete(id: string): boolean {
    return this.deleteOne.run(id).changes > 0;
  }
}
