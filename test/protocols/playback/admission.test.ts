import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { AdmissionRequest } from '../../../src/core/admission';
import { GatewayError } from '../../../src/core/errors';
import { makeRecordings, startPlaybackServer, T0 } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'gw-playback-adm-'));
const seen: AdmissionRequest[] = [];
let server: Awaited<ReturnType<typeof startPlaybackServer>>;

before(async () => {
  server = await startPlaybackServer(dir, {
    admission: async (request) => {
      seen.push(request);
      if (request.query.token !== 'good') throw new GatewayError('FORBIDDEN', 'token refused');
      return {};
    },
  });
  await makeRecordings(dir, server.db, 'flv');
});
after(async () => {
  await server.app.close();
  rmSync(dir, { recursive: true, force: true });
});

test('playback passes the play admission like live play: 403 {code, message} without a good token, the query minus its own keys', async () => {
  for (const url of [
    `/record/live/cam.flv?start=${T0}`,
    `/record/live/cam/index.m3u8?start=${T0}`,
    `/api/recordings/1/file`,
    `/api/recordings/timeline?path=live/cam&start=${T0}&end=${T0 + 60_000}`,
  ]) {
    const refused = await fetch(`${server.base}${url}`);
    assert.equal(refused.status, 403, url);
    assert.deepEqual(await refused.json(), { code: 'FORBIDDEN', message: 'token refused' });
  }
  const allowed = await fetch(`${server.base}/record/live/cam.flv?start=${T0}&end=${T0 + 2000}&token=good`);
  assert.equal(allowed.status, 200);
  await allowed.arrayBuffer();
  const last = seen.at(-1)!;
  assert.deepEqual([last.action, last.path, last.protocol, last.query], ['play', 'live/cam', 'record-flv', { token: 'good' }]);
});

test('over WebSocket a refusal closes with 4403 and the reason', async () => {
  const ws = new WebSocket(`${server.base.replace('http', 'ws')}/record/live/cam.flv?start=${T0}`);
  const [code, reason] = await new Promise<[number, string]>((resolve) => ws.once('close', (c, r) => resolve([c, r.toString()])));
  assert.equal(code, 4403);
  assert.equal(reason, 'token refused');
});
