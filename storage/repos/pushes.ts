import type { Db } from '../db';

export type PushHevcRecord = 'enhanced' | 'legacy' | 'drop';

/** A push rule added through the API (migration 6). The URL keeps its stream key (the CDN needs it). */
export interface PushRecord {
  readonly id: string;
  readonly path: string;
  readonly url: string;
  readonly keepSource: boolean;
  readonly hevc: PushHevcRecord;
  readonly allowSelfSigned: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  id: string;
  path: string;
  url: string;
  keep_source: number;
  hevc: PushHevcRecord;
  allow_self_signed: number;
  created_at: number;
  updated_at: number;
}

function fromRow(row: Row): PushRecord {
  return {
    id: row.id,
    path: row.path,
    url: row.url,
    keepSource: row.keep_source === 1,
    hevc: row.hevc,
    allowSelfSigned: row.allow_self_signed === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toParams(record: PushRecord): Record<string, string | number> {
  return {
    id: record.id,
    path: record.path,
    url: record.url,
    keepSource: record.keepSource ? 1 : 0,
    hevc: record.hevc,
    allowSelfSigned: record.allowSelfSigned ? 1 : 0,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** The pushes table. */
export class PushRepo {
  private readonly selectAll;
  private readonly insertOne;
  private readonly updateOne;
  private readonly deleteOne;

  constructor(db: Db) {
    this.selectAll = db.prepare<[], Row>('SELECT * FROM pushes ORDER BY created_at, id');
    this.insertOne = db.prepare(
      'INSERT INTO pushes (id, path, url, keep_source, hevc, allow_self_signed, created_at, updated_at) VALUES (@id, @path, @url, @keepSource, @hevc, @allowSelfSigned, @createdAt, @updatedAt)',
    );
    this.updateOne = db.prepare(
      'UPDATE pushes SET path = @path, url = @url, keep_source = @keepSource, hevc = @hevc, allow_self_signed = @allowSelfSigned, updated_at = @updatedAt WHERE id = @id',
    );
    this.deleteOne = db.prepare('DELETE FROM pushes WHERE id = ?');
  }

  list(): PushRecord[] {
    return this.selectAll.all().map(fromRow);
  }

  insert(record: PushRecord): void {
    this.insertOne.run(toParams(record));
  }

  update(record: PushRecord): void {
    this.updateOne.run(toParams(record));
  }

  delete(id: string): boolean {
    return this.deleteOne.run(id).changes > 0;
  }
}
