import type { Migration } from './index';

/** GB28181 devices and their catalog (channels and tree nodes: civil codes, business groups). */
export const gb28181Migration: Migration = {
  version: 2,
  name: 'gb28181 devices and channels',
  sql: `
    CREATE TABLE gb_devices (
      id                 TEXT PRIMARY KEY,
      name               TEXT,
      manufacturer       TEXT,
      model              TEXT,
      firmware           TEXT,
      transport          TEXT NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp')),
      address            TEXT,
      charset            TEXT NOT NULL DEFAULT 'GB2312',
      stream_mode        TEXT NOT NULL DEFAULT 'tcp-passive' CHECK (stream_mode IN ('udp', 'tcp-passive', 'tcp-active')),
      password           TEXT,
      no_auth            INTEGER NOT NULL DEFAULT 0,
      provisioned        INTEGER NOT NULL DEFAULT 0,
      online             INTEGER NOT NULL DEFAULT 0,
      call_id            TEXT,
      registered_at      INTEGER,
      keepalive_at       INTEGER,
      expires            INTEGER,
      heartbeat_interval INTEGER,
      heartbeat_count    INTEGER,
      online_at          INTEGER,
      offline_at         INTEGER,
      offline_reason     TEXT,
      catalog_at         INTEGER,
      channel_count      INTEGER NOT NULL DEFAULT 0,
      created_at         INTEGER NOT NULL,
      updated_at         INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX gb_devices_online ON gb_devices (online);

    CREATE TABLE gb_channels (
      device_id          TEXT NOT NULL REFERENCES gb_devices (id) ON DELETE CASCADE,
      id                 TEXT NOT NULL,
      kind               TEXT NOT NULL DEFAULT 'device' CHECK (kind IN ('civil', 'group', 'org', 'device')),
      name               TEXT,
      parent_id          TEXT,
      civil_code         TEXT,
      business_group_id  TEXT,
      manufacturer       TEXT,
      model              TEXT,
      owner              TEXT,
      address            TEXT,
      ip_address         TEXT,
      port               INTEGER,
      status             TEXT,
      online             INTEGER NOT NULL DEFAULT 0,
      ptz_type           INTEGER,
      longitude          REAL,
      latitude           REAL,
      gone               INTEGER NOT NULL DEFAULT 0,
      raw                TEXT NOT NULL DEFAULT '{}',
      created_at         INTEGER NOT NULL,
      updated_at         INTEGER NOT NULL,
      PRIMARY KEY (device_id, id)
    ) STRICT;
    CREATE INDEX gb_channels_online ON gb_channels (online);
  `,
};
