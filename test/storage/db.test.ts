import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../storage/db';
import { migrations } from '../../storage/migrations';
import { silentLogger } from '../../src/core/log';

// The highest version, wherever it sits in the list (engineers land their numbers out of order).
const latest = Math.max(...migrations.map((m) => m.version));

test('opens in WAL mode, migrates once and survives a reopen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-db-'));
  const db = openDatabase(dir, silentLogger());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), latest);
  db.prepare(`INSERT INTO meta (key, value) VALUES ('probe', 'kept')`).run();
  db.close();
  const again = openDatabase(dir, silentLogger());
  assert.equal((again.prepare(`SELECT value FROM meta WHERE key = 'probe'`).get() as { value: string }).value, 'kept');
  again.close();
});

test('a failing migration leaves the database at the previous version', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-db-'));
  const broken = [...migrations, { version: 999, name: 'broken', sql: 'CREATE TABLE x (a); THIS IS NOT SQL;' }];
  assert.throws(() => openDatabase(dir, silentLogger(), broken));
  const db = openDatabase(dir, silentLogger());
  assert.equal(db.pragma('user_version', { simple: true }), latest);
  assert.equal(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'x'`).get(), undefined);
  db.close();
});
