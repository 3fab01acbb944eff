import type { Db } from '../db';

/** A confirmed INVITE dialog as kept for a restart (migration 005); the rest is opaque JSON. */
export interface DialogRecord {
  callId: string;
  deviceId: string;
  channelId: string;
}

/** The gb_dialogs table: one row per open dialog with a device. */
export class DialogRepo {
  private readonly upsert;
  private readonly deleteOne;
  private readonly selectAll;

  constructor(db: Db) {
    this.upsert = db.prepare('INSERT OR REPLACE INTO gb_dialogs (call_id, device_id, channel_id, dialog, created_at) VALUES (?, ?, ?, ?, ?)');
    this.deleteOne = db.prepare('DELETE FROM gb_dialogs WHERE call_id = ?');
    this.selectAll = db.prepare<[], { dialog: string }>('SELECT dialog FROM gb_dialogs ORDER BY created_at');
  }

  save<T extends DialogRecord>(dialog: T): void {
    this.upsert.run(dialog.callId, dialog.deviceId, dialog.channelId, JSON.stringify(dialog), Date.now());
  }

  remove(callId: string): void {
    this.deleteOne.run(callId);
  }

  /** Rows that do not parse are skipped (and stay until removed by call id). */
  list<T extends DialogRecord>(): T[] {
    const out: T[] = [];
    for (const row of this.selectAll.all()) {
      try {
        out.push(JSON.parse(row.dialog) as T);
      } catch {
        // a damaged row: nothing to hang up
      }
    }
    return out;
  }
}
