import type { Migration } from './index';

/** Saved monitoring walls of the console: a name, a layout and the path of each tile (JSON array, null for an empty tile). */
export const wallsMigration: Migration = {
  version: 7,
  name: 'walls',
  sql: `
    CREATE TABLE walls (
      id         INTEGER PRIMARY KEY AUTOINCREMENT,
      name       TEXT NOT NULL,
      layout     TEXT NOT NULL CHECK (layout IN ('1', '2x2', '3x3', '4x4', '1+5')),
      tiles      TEXT NOT NULL DEFAULT '[]',
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
  `,
};
