import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../src/core/log';
import { migrations as allMigrations, type Migration } from './migrations';

export type Db = Database.Database;

/**
 * Opens (creating if needed) `<dir>/gateway.db` in WAL mode and applies pending migrations in
 * one transaction each. The embedded database needs no server: it is a file under storage.dir.
 */
export function openDatabase(dir: string, log: Logger, migrations: readonly Migration[] = allMigrations): Db {
  mkdirSync(dir, { recursive: true });
  const file = dir === ':memory:' ? ':memory:' : join(dir, 'gateway.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations, log);
  return db;
}

export function migrate(db: Db, migrations: readonly Migration[], log: Logger): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
    log.info({ version: migration.version, name: migration.name }, 'database migrated');
  }
  db.prepare(`INSERT INTO meta (key, value) VALUES ('opened_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(new Date().toISOString());
}
