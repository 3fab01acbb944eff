import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TEST_SECRETS, waitFor } from '../helpers/gateway';
import { spawnGatewayChild, type GatewayChild } from '../helpers/gateway-child';
import { ffmpegPath, startTool } from '../helpers/media-tools';
import { probeSegment, type RecordingJson } from '../helpers/recordings';
import { testPatternArgs } from '../helpers/publisher';

async function rows(http: number, path: string): Promise<RecordingJson[]> {
  const res = await fetch(`http://127.0.0.1:${http}/api/recordings?path=${path}&start=0`, { headers: { authorization: `Bearer ${TEST_SECRETS.secret}` } });
  return ((await res.json()) as { recordings: RecordingJson[] }).recordings;
}

test('kill -9 mid-segment, restart: the segments are cut after their last complete tag/packet, marked recovered, decode, lose at most flushSeconds, and the database is intact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-crash-'));
  const env = {
    GW_SIP_ENABLED: 'false',
    GW_AUTH_SECRET: TEST_SECRETS.secret,
    GW_AUTH_PUBLISH_KEY: TEST_SECRETS.publishKey,
    GW_STORAGE_DIR: dir,
    GW_LOG_PRETTY: 'no',
    GW_RECORD_SEGMENT_SECONDS: '60',
    GW_RECORD_FLUSH_SECONDS: '1',
    GW_RECORD_PLANS: JSON.stringify([{ id: 'all', streams: 'live/*', formats: 'flv,ts' }]),
  };
  const first = spawnGatewayChild(env);
  let publisher: ReturnType<typeof startTool> | undefined;
  let second: GatewayChild | undefined;
  try {
    const ports = await first.ports();
    publisher = startTool(ffmpegPath, testPatternArgs(`rtmp://127.0.0.1:${ports.rtmp}/live/crash?key=${TEST_SECRETS.publishKey}`, { size: '320x240', gop: 25 }));
    const open = await waitFor(
      async () => {
        const list = await rows(ports.http, 'live/crash');
        return list.length === 2 && list.every((r) => r.status === 'recording') && list;
      },
      20_000,
      'two open segments',
    );
    await new Promise((resolve) => setTimeout(resolve, 7000));
    const killedAt = Date.now();
    await first.kill();
    await publisher.stop();
    const expectedMs = killedAt - Math.min(...open.map((r) => r.startMs));

    second = spawnGatewayChild({ ...env, GW_RECORD_PLANS: '[]' });
    const ports2 = await second.ports();
    const after = await rows(ports2.http, 'live/crash');
    assert.equal(after.length, 2);
    for (const row of after) {
      assert.equal(row.status, 'recovered', `${row.file} is recovered`);
      const file = join(dir, 'record', row.file);
      assert.equal(statSync(file).size, row.bytes, `${row.file}: size and row agree`);
      const probe = await probeSegment(file);
      assert.equal(probe.decodeErrors, '', `${row.file} decodes silently`);
      t.diagnostic(`${row.format}: recovered ${row.durationMs} ms of ${expectedMs} ms recorded before kill -9 (${row.bytes} bytes)`);
      assert.ok(row.durationMs >= expectedMs - 1000 - 300, `${row.format}: ${row.durationMs} ms recovered of ~${expectedMs} ms (flushSeconds 1)`);
      assert.ok(Math.abs(probe.mediaSeconds * 1000 - row.durationMs) < 300, `${row.format}: the row's duration is the file's (${probe.mediaSeconds}s)`);
    }
    await second.stop();
    const db = new Database(join(dir, 'gateway.db'), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal((db.prepare(`SELECT COUNT(*) AS n FROM recordings WHERE status = 'recording'`).get() as { n: number }).n, 0);
    } finally {
      db.close();
    }
  } finally {
    await publisher?.stop();
    await first.kill();
    await second?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
