import type { Db } from '../db';
import { WALL_LAYOUTS, type WallInput, type WallLayout, type WallRecord } from '../../src/core/walls';

interface Row {
  id: number;
  name: string;
  layout: string;
  tiles: string;
  created_at: number;
  updated_at: number;
}

function tilesFrom(json: string): (string | null)[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.map((t) => (typeof t === 'string' ? t : null)) : [];
  } catch {
    return [];
  }
}

function fromRow(row: Row): WallRecord {
  const layout = (WALL_LAYOUTS as readonly string[]).includes(row.layout) ? (row.layout as WallLayout) : '1';
  return { id: row.id, name: row.name, layout, tiles: tilesFrom(row.tiles), createdAt: row.created_at, updatedAt: row.updated_at };
}

/** The walls table (migration 7): saved monitoring walls of the console. */
export class WallRepo {
  private readonly selectAll;
  private readonly selectOne;
  private readonly insertOne;
  private readonly updateOne;
  private readonly deleteOne;

  constructor(
    db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.selectAll = db.prepare<[], Row>('SELECT * FROM walls ORDER BY name, id');
    this.selectOne = db.prepare<[number], Row>('SELECT * FROM walls WHERE id = ?');
    this.insertOne = db.prepare<[string, string, string, number, number]>('INSERT INTO walls (name, layout, tiles, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
    this.updateOne = db.prepare<[string, string, string, number, number]>('UPDATE walls SET name = ?, layout = ?, tiles = ?, updated_at = ? WHERE id = ?');
    this.deleteOne = db.prepare<[number]>('DELETE FROM walls WHERE id = ?');
  }

  list(): WallRecord[] {
    return this.selectAll.all().map(fromRow);
  }

  get(id: number): WallRecord | undefined {
    const row = this.selectOne.get(id);
    return row ? fromRow(row) : undefined;
  }

  create(input: WallInput): WallRecord {
    const at = this.now();
    const result = this.insertOne.run(input.name, input.layout, JSON.stringify(input.tiles), at, at);
    return this.get(Number(result.lastInsertRowid))!;
  }

  update(id: number, patch: Partial<WallInput>): WallRecord | undefined {
    const current = this.get(id);
    if (!current) return undefined;
    const next = { ...current, ...patch };
    this.updateOne.run(next.name, next.layout, JSON.stringify(next.tiles), this.now(), id);
    return this.get(id);
  }

  remove(id: number): boolean {
    return this.deleteOne.run(id).changes > 0;
  }
}
