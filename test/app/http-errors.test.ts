import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;

before(async () => {
  gw = await startTestGateway();
});

after(() => gw?.stop());

/** One raw request; resolves with the status line's code and the JSON body. */
function raw(text: string): Promise<{ status: number; body: { code?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const socket = connect(gw.ports.http, '127.0.0.1');
    let out = '';
    socket.on('data', (data) => {
      out += data.toString();
      const end = out.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(out)?.[1] ?? -1);
      if (end >= 0 && length >= 0 && out.length >= end + 4 + length) {
        socket.destroy();
        resolve({ status: Number(out.slice(9, 12)), body: JSON.parse(out.slice(end + 4, end + 4 + length)) as { code?: string } });
      }
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

test('a missing proxy is PROXY_NOT_FOUND, a missing device DEVICE_NOT_FOUND (404), never STREAM_NOT_FOUND', async () => {
  const proxy = await fetch(`${gw.httpUrl}/api/proxies/nope`, { headers: gw.authHeaders });
  assert.equal(proxy.status, 404);
  assert.equal(((await proxy.json()) as { code: string }).code, 'PROXY_NOT_FOUND');
  const device = await fetch(`${gw.httpUrl}/api/devices/34020000001320009999`, { headers: gw.authHeaders });
  assert.equal(device.status, 404);
  assert.equal(((await device.json()) as { code: string }).code, 'DEVICE_NOT_FOUND');
  const viewer = await fetch(`${gw.httpUrl}/rtp/34020000001320009999_34020000001310000001.flv`);
  assert.equal(viewer.status, 404);
  assert.equal(((await viewer.json()) as { code: string }).code, 'DEVICE_NOT_FOUND');
});

test('an over-long path segment or URL is 414 URI_TOO_LONG, an over-large head 431 HEADERS_TOO_LARGE, in {code, message}', async () => {
  const segment = await raw(`GET /live/${'a'.repeat(300)}.flv HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.equal(segment.status, 414);
  assert.equal(segment.body.code, 'URI_TOO_LONG');
  assert.ok(segment.body.message);
  const url = await raw(`GET /api/streams/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.equal(url.status, 414);
  assert.equal(url.body.code, 'URI_TOO_LONG');
  const headers = await raw(`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
  assert.equal(headers.status, 431);
  assert.deepEqual(headers.body, { code: 'HEADERS_TOO_LARGE', message: 'the request headers are too large' });
  const health = await fetch(`${gw.httpUrl}/api/health`);
  assert.equal(health.status, 200, 'the server is unharmed');
});
