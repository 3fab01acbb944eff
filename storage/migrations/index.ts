import { gb28181Migration } from './002-gb28181';
import { recordingsMigration } from './004-recordings';
import { gbAlarmsMigration } from './005-gb-alarms';
import { pushesMigration } from './006-pushes';
import { wallsMigration } from './007-walls';
import { gbDownloadsMigration } from './008-gb-downloads';

/** Schema migrations, applied in order; `PRAGMA user_version` records the last one applied. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'meta',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
  gb28181Migration,
  {
    version: 3,
    name: 'rtsp proxies',
    sql: `
      CREATE TABLE rtsp_proxies (
        id         TEXT PRIMARY KEY,
        path       TEXT NOT NULL UNIQUE,
        url        TEXT NOT NULL,
        transport  TEXT NOT NULL DEFAULT 'auto' CHECK (transport IN ('auto', 'tcp', 'udp')),
        on_demand  INTEGER NOT NULL DEFAULT 1 CHECK (on_demand IN (0, 1)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  recordingsMigration,
  gbAlarmsMigration,
  pushesMigration,
  wallsMigration,
  gbDownloadsMigration,
];
