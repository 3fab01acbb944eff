import type { Migration } from './index';

/**
 * GB28181 downloads (s=Download): one row per request, with its state and progress. The media
 * itself lands in `recordings` (reason 'download'); `recording_ids` lists its segments.
 */
export const gbDownloadsMigration: Migration = {
  version: 8,
  name: 'gb28181 downloads',
  sql: `
    CREATE TABLE gb_downloads (
      id            INTEGER PRIMARY KEY AUTOINCREMENT,
      device_id     TEXT NOT NULL,
      channel_id    TEXT NOT NULL,
      path          TEXT NOT NULL,
      start_ms      INTEGER NOT NULL,
      end_ms        INTEGER NOT NULL,
      speed         INTEGER NOT NULL,
      state         TEXT NOT NULL CHECK (state IN ('starting', 'downloading', 'complete', 'cancelled', 'failed')),
      error         TEXT,
      media_ms      INTEGER NOT NULL DEFAULT 0,
      bytes         INTEGER NOT NULL DEFAULT 0,
      file_size     INTEGER,
      recording_ids TEXT NOT NULL DEFAULT '[]',
      created_at    INTEGER NOT NULL,
      media_at      INTEGER,
      ended_at      INTEGER
    ) STRICT;
    CREATE INDEX gb_downloads_device ON gb_downloads (device_id, id);
  `,
};
