import type { Migration } from './index';

/**
 * Recorded segments (one row per file; HLS: per TS segment) and record plans made through the
 * API. `recordings_path_span` lets a time-range query bound its scan by the longest segment of
 * the path (an index min/max lookup) instead of reading every older row.
 */
export const recordingsMigration: Migration = {
  version: 4,
  name: 'recordings and record plans',
  sql: `
    CREATE TABLE recordings (
      id          INTEGER PRIMARY KEY,
      path        TEXT NOT NULL,
      format      TEXT NOT NULL CHECK (format IN ('flv', 'ts', 'hls')),
      file        TEXT NOT NULL UNIQUE,
      start_ms    INTEGER NOT NULL,
      end_ms      INTEGER NOT NULL,
      bytes       INTEGER NOT NULL DEFAULT 0,
      video_codec TEXT,
      width       INTEGER,
      height      INTEGER,
      audio_codec TEXT,
      keyframes   INTEGER NOT NULL DEFAULT 0,
      status      TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'recovered', 'missing')),
      plan_id     TEXT,
      reason      TEXT NOT NULL,
      created_at  INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX recordings_path_start ON recordings (path, start_ms);
    CREATE INDEX recordings_path_span ON recordings (path, end_ms - start_ms);
    CREATE INDEX recordings_start ON recordings (start_ms);
    CREATE INDEX recordings_open ON recordings (status) WHERE status = 'recording';

    CREATE TABLE record_plans (
      id         TEXT PRIMARY KEY,
      spec       TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
  `,
};
