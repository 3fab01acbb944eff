import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../../helpers/gateway';
import { captureHttp } from '../../helpers/capture';
import type { ProxyDto } from '../../../src/api/proxies';

async function call<T = unknown>(gw: TestGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${gw.httpUrl}${path}`, {
    method,
    headers: { ...gw.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

test('/api/proxies: create, read, change, delete, validation, and persistence across a restart', async () => {
  const storage = mkdtempSync(join(tmpdir(), 'gw-proxy-api-'));
  let gw = await startTestGateway({ GW_STORAGE_DIR: storage, GW_PROXIES: JSON.stringify([{ path: 'cfg/door', url: 'rtsp://u:pw@10.0.0.9/x' }]) });
  try {
    const created = await call<ProxyDto>(gw, 'POST', '/api/proxies', { path: 'cams/gate', url: 'rtsp://admin:secret@127.0.0.1:9/live', transport: 'tcp', onDemand: true });
    assert.equal(created.status, 201);
    assert.equal(created.json.url, 'rtsp://admin:***@127.0.0.1:9/live');
    const id = created.json.id;
    assert.equal((await call(gw, 'POST', '/api/proxies', { path: 'cams/gate', url: 'rtsp://x/y' })).status, 409);
    const bad = await call<{ code: string; message: string }>(gw, 'POST', '/api/proxies', { path: 'cams/gate', url: 'http://x/y' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'BAD_REQUEST');
    assert.equal((await call(gw, 'POST', '/api/proxies', { path: 'cams/x', url: 'rtsp://x/y', extra: 1 })).status, 400);
    assert.equal((await call(gw, 'GET', '/api/proxies/nope')).status, 404);
    assert.equal((await call(gw, 'PATCH', '/api/proxies/config-1', { transport: 'tcp' })).status, 400);
    const patched = await call<ProxyDto>(gw, 'PATCH', `/api/proxies/${id}`, { transport: 'udp' });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.transport, 'udp');
    const list = await call<{ proxies: ProxyDto[] }>(gw, 'GET', '/api/proxies');
    assert.deepEqual(
      list.json.proxies.map((p) => [p.id, p.origin, p.url]),
      [
        ['config-1', 'config', 'rtsp://u:***@10.0.0.9/x'],
        [id, 'api', 'rtsp://admin:***@127.0.0.1:9/live'],
      ],
    );
    await gw.stop();
    gw = await startTestGateway({ GW_STORAGE_DIR: storage });
    const again = await call<ProxyDto>(gw, 'GET', `/api/proxies/${id}`);
    assert.equal(again.status, 200, 'the proxy survived the restart');
    assert.equal(again.json.transport, 'udp');
    assert.equal((await call(gw, 'DELETE', `/api/proxies/${id}`)).status, 200);
    assert.equal((await call(gw, 'DELETE', `/api/proxies/${id}`)).status, 404);
  } finally {
    await gw.stop();
    rmSync(storage, { recursive: true, force: true });
  }
});

test('cameras that hang or answer garbage never stall the gateway; their viewers get the reason', { timeout: 30_000 }, async () => {
  const sockets = new Set<Socket>();
  const hang = createServer((s) => void sockets.add(s.on('error', () => undefined)));
  const garbage = createServer((s) => {
    sockets.add(s.on('error', () => undefined));
    s.on('data', () => s.write(Buffer.alloc(4096, 0xa5)));
  });
  await Promise.all([hang, garbage].map((srv) => new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()))));
  const portOf = (srv: typeof hang): number => (srv.address() as AddressInfo).port;
  const gw = await startTestGateway({ GW_RTSP_REQUEST_TIMEOUT: '2' });
  const dir = mkdtempSync(join(tmpdir(), 'gw-proxy-hang-'));
  try {
    await call(gw, 'POST', '/api/proxies', { path: 'cams/hang', url: `rtsp://127.0.0.1:${portOf(hang)}/x`, transport: 'tcp' });
    await call(gw, 'POST', '/api/proxies', { path: 'cams/garbage', url: `rtsp://127.0.0.1:${portOf(garbage)}/x`, transport: 'tcp' });
    const viewers = [captureHttp(`${gw.httpUrl}/cams/hang.flv`, join(dir, 'h.flv'), 10_000), captureHttp(`${gw.httpUrl}/cams/garbage.flv`, join(dir, 'g.flv'), 10_000)];
    // While both pulls are stuck or failing, the API answers at once.
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      assert.equal((await call(gw, 'GET', '/api/health')).status, 200);
      assert.ok(Date.now() - started < 500);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [hung, bad] = await Promise.all(viewers);
    assert.equal(hung!.status, 502);
    assert.match(hung!.body, /timed out: OPTIONS got no answer within 2000 ms/);
    assert.equal(bad!.status, 502);
    assert.match(bad!.body, /protocol error: the server sent something that is not RTSP/);
  } finally {
    await gw.stop();
    for (const s of sockets) s.destroy();
    await Promise.all([hang, garbage].map((srv) => new Promise((resolve) => srv.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  }
});
