import type { Migration } from './index';

/** Push rules added through the API (config-declared ones are not stored). */
export const pushesMigration: Migration = {
  version: 6,
  name: 'pushes',
  sql: `
    CREATE TABLE pushes (
      id                TEXT PRIMARY KEY,
      path              TEXT NOT NULL,
      url               TEXT NOT NULL,
      keep_source       INTEGER NOT NULL DEFAULT 0 CHECK (keep_source IN (0, 1)),
      hevc              TEXT NOT NULL DEFAULT 'enhanced' CHECK (hevc IN ('enhanced', 'legacy', 'drop')),
      allow_self_signed INTEGER NOT NULL DEFAULT 0 CHECK (allow_self_signed IN (0, 1)),
      created_at        INTEGER NOT NULL,
      updated_at        INTEGER NOT NULL
    ) STRICT;
  `,
};
