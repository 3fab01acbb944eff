import type { Migration } from './index';

/** GB28181 device alarms (Notify/Alarm) and the INVITE dialogs still open (BYE'd after a restart). */
export const gbAlarmsMigration: Migration = {
  version: 5,
  name: 'gb28181 alarms and dialogs',
  sql: `
    CREATE TABLE gb_alarms (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      device_id   TEXT NOT NULL,
      channel_id  TEXT NOT NULL,
      priority    INTEGER,
      method      INTEGER,
      type        INTEGER,
      alarm_at    INTEGER NOT NULL,
      received_at INTEGER NOT NULL,
      description TEXT,
      longitude   REAL,
      latitude    REAL
    ) STRICT;
    CREATE INDEX gb_alarms_device_time ON gb_alarms (device_id, alarm_at);
    CREATE INDEX gb_alarms_time ON gb_alarms (alarm_at);
    CREATE TABLE gb_dialogs (
      call_id     TEXT PRIMARY KEY,
      device_id   TEXT NOT NULL,
      channel_id  TEXT NOT NULL,
      dialog      TEXT NOT NULL,
      created_at  INTEGER NOT NULL
    ) STRICT;
  `,
};
