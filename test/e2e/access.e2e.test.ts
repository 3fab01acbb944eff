import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRETS, startTestGateway, type TestGateway } from '../helpers/gateway';
import { publishTestPattern, testPatternArgs } from '../helpers/publisher';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { TestRtmpClient } from '../protocols/rtmp/test-client';
import { startScriptCamera, type ScriptCamera } from '../helpers/rtsp-script-camera';

/**
 * The access rules on a gateway with the shipped defaults (auth.play token, no CORS origin but
 * the one configured here), driven by real ffmpeg/ffprobe and plain HTTP. Every answer body and
 * every log line of the run is kept and grepped for the secrets at the end.
 */
const CONSOLE_ORIGIN = 'https://console.example';
const CAMERA_PASSWORD = 'Cam-Pass-778';
let gw: TestGateway;
let publisher: Awaited<ReturnType<typeof publishTestPattern>>;
let camera: ScriptCamera;
const answers: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'gw-access-'));

/** fetch that keeps the answer body for the final grep. */
async function call(path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; json: <T = Record<string, unknown>>() => T }> {
  const response = await fetch(`${gw.httpUrl}${path}`, init);
  const text = await response.text();
  const headers: string[] = [];
  response.headers.forEach((value, name) => headers.push(`${name}: ${value}`));
  answers.push(`${response.status}\n${headers.join('\n')}\n${text}`);
  return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
}

const bearer = (secret: string = TEST_SECRETS.secret) => ({ authorization: `Bearer ${secret}` });
const jsonBody = (body: object): { headers: Record<string, string>; body: string } => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

before(async () => {
  gw = await startTestGateway(
    { GW_AUTH_PLAY: 'token', GW_HTTP_CORS_ORIGINS: CONSOLE_ORIGIN, GW_LOG_LEVEL: 'debug', GW_HUB_WAIT_FOR_PUBLISHER: '1', GW_AUTH_LOGIN_LIMIT: '3', GW_RTSP_UDP_FALLBACK: '1' },
    { captureLogs: true },
  );
  publisher = await publishTestPattern(gw, 'live/cam1', { audio: false });
  // A camera with a password whose UDP carries nothing: the proxy falls back to TCP (and logs it).
  camera = await startScriptCamera({
    basic: { username: 'admin', password: CAMERA_PASSWORD },
    override: (req) => {
      const transport = req.headers.get('transport') ?? '';
      if (req.method !== 'SETUP' || transport.includes('interleaved')) return undefined;
      return { status: 200, headers: { Session: 'ABCD1234;timeout=60', Transport: `${transport};server_port=40000-40001` } };
    },
  });
  const proxy = await call('/api/proxies', {
    method: 'POST',
    ...jsonBody({ path: 'cams/gate', url: `rtsp://admin:${CAMERA_PASSWORD}@127.0.0.1:${camera.port}/Streaming/Channels/101`, transport: 'auto' }),
    headers: { ...bearer(), 'content-type': 'application/json' },
  });
  assert.equal(proxy.status, 201, proxy.text);
});

after(async () => {
  await publisher?.stop();
  await gw?.stop();
  await camera?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('without credentials every /api route answers 401; health is open and says nothing secret', async () => {
  const routes: [string, string, object?][] = [
    ['GET', '/api/streams'],
    ['DELETE', '/api/streams/live/cam1'],
    ['GET', '/api/sessions'],
    ['POST', '/api/proxies', { path: 'cams/x', url: 'rtsp://10.0.0.1/x' }],
    ['GET', '/api/proxies'],
    ['GET', '/api/devices'],
    ['GET', '/api/devices/34020000001320000001/sip-log'],
    ['GET', '/api/invites'],
    ['POST', '/api/rtp/open', { stream: 'rtp/x', transport: 'udp' }],
    ['POST', '/api/auth/sign', { path: 'live/cam1' }],
  ];
  for (const [method, path, body] of routes) {
    const init: { method: string; headers?: Record<string, string>; body?: string } = body ? { method, ...jsonBody(body) } : { method };
    const none = await call(path, init);
    assert.equal(none.status, 401, `${method} ${path}: ${none.text}`);
    assert.equal(none.json().code, 'UNAUTHORIZED');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await call(path, { ...init, headers: { ...(init.headers ?? {}), ...bearer('not-the-admin-secret-at-all') } });
    assert.equal(wrong.status, 401, `${method} ${path} with a wrong secret`);
  }
  assert.equal(gw.gateway.registry.get('live/cam1')?.state, 'live', 'the refused DELETE kicked nobody');
  const health = await call('/api/health');
  assert.equal(health.status, 200);
  assert.equal(health.json().status, 'ok');
  const streams = await call('/api/streams', { headers: bearer() });
  assert.equal(streams.status, 200);
  assert.ok(streams.json<{ streams: { path: string }[] }>().streams.some((s) => s.path === 'live/cam1'));
  const proxies = await call('/api/proxies', { headers: bearer() });
  assert.match(proxies.text, /admin:\*\*\*@127\.0\.0\.1:\d+\/Streaming/, 'the camera password is masked in the API');
});

async function rtmpPublishStatus(app: string, name: string): Promise<{ code?: string; description?: string }> {
  const client = await TestRtmpClient.open(gw.ports.rtmp);
  try {
    const streamId = await client.connectAndCreateStream(app);
    client.command(streamId, 'publish', 0, null, name, 'live');
    const status = await client.waitCommand('onStatus');
    return status.args[0] as { code?: string; description?: string };
  } finally {
    await client.close();
  }
}

test('RTMP publishing without the key, or with a wrong one, is refused with NetStream.Publish.Unauthorized', async () => {
  const ffmpeg = await runTool(ffmpegPath, testPatternArgs(`${gw.rtmpUrl}/live/intruder`, { size: '160x120', rate: 10, audio: false, seconds: 2 }), 15_000);
  assert.notEqual(ffmpeg.code, 0, 'ffmpeg fails to publish');
  assert.equal(gw.gateway.registry.get('live/intruder'), undefined);
  const none = await rtmpPublishStatus('live', 'intruder');
  assert.equal(none.code, 'NetStream.Publish.Unauthorized');
  assert.match(none.description ?? '', /needs \?key=/);
  const wrong = await rtmpPublishStatus('live', 'intruder?key=guessed-key');
  assert.equal(wrong.code, 'NetStream.Publish.Unauthorized');
  assert.match(wrong.description ?? '', /wrong publish key/);
});

test('a publisher with the key cannot take over an RTSP proxy path or a GB28181 channel path', async () => {
  const key = `?key=${TEST_SECRETS.publishKey}`;
  for (const [app, name, owner] of [
    ['cams', 'gate', /RTSP proxy/],
    ['rtp', '34020000001320000001_34020000001310000001', /GB28181/],
  ] as const) {
    const status = await rtmpPublishStatus(app, `${name}${key}`);
    assert.equal(status.code, 'NetStream.Publish.Unauthorized', `${app}/${name}`);
    assert.match(status.description ?? '', owner);
    assert.match(status.description ?? '', /cannot take it over/);
    const ffmpeg = await runTool(ffmpegPath, testPatternArgs(`${gw.rtmpUrl}/${app}/${name}${key}`, { size: '160x120', rate: 10, audio: false, seconds: 2 }), 15_000);
    assert.notEqual(ffmpeg.code, 0);
    assert.equal(gw.gateway.registry.get(`${app}/${name}`)?.publisher?.kind === 'rtmp', false);
  }
});

test('play tokens: none is 401, forged or expired is 403, a signed URL plays over HTTP-FLV, RTMP and HLS', async () => {
  const none = await call('/live/cam1.flv');
  assert.equal(none.status, 401);
  assert.equal(none.json().code, 'UNAUTHORIZED');
  const signed = await call('/api/auth/sign', {
    method: 'POST',
    headers: { ...bearer(), 'content-type': 'application/json' },
    body: JSON.stringify({ path: 'live/cam1', expiresIn: 120 }),
  });
  assert.equal(signed.status, 200, signed.text);
  const { token, urls } = signed.json<{ token: string; urls: { flv: string; rtmp: string; hls: string } }>();
  const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
  const expired = gw.gateway.access.sign({ path: 'live/cam1', expiresIn: -5 }).token;
  const otherPath = gw.gateway.access.sign({ path: 'live/other' }).token;
  for (const [bad, why] of [
    [forged, /signature/],
    [expired, /expired/],
    [otherPath, /signature/],
  ] as const) {
    const refused = await call(`/live/cam1.flv?token=${bad}`);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json().code, 'FORBIDDEN');
    assert.match(refused.json<{ message: string }>().message, why);
  }
  for (const url of [urls.flv, urls.rtmp]) {
    assert.match(url, /token=/);
    const probe = await ffprobeJson(url, [], 15_000);
    assert.equal(probe.code, 0, `${url}: ${probe.stderr}`);
    assert.equal(probe.streams[0]?.codec_name, 'h264');
  }
  const refusedRtmp = await ffprobeJson(`${gw.rtmpUrl}/live/cam1?token=${expired}`, [], 15_000);
  assert.notEqual(refusedRtmp.code, 0, 'RTMP play with an expired token fails');
  const hls = await call(new URL(urls.hls).pathname + new URL(urls.hls).search, { headers: { origin: CONSOLE_ORIGIN } });
  assert.equal(hls.status, 200, hls.text);
  assert.match(hls.text, /^#EXTM3U/);
  assert.equal(hls.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN, 'a configured origin may fetch media');
});

test('console login: HttpOnly SameSite cookie, CSRF token needed to change anything, wrong logins rate-limited', async () => {
  const login = await call('/api/auth/login', { method: 'POST', ...jsonBody({ secret: TEST_SECRETS.secret }) });
  assert.equal(login.status, 200, login.text);
  const cookie = login.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^gw_session=[A-Za-z0-9_-]{40,};/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const session = cookie.split(';')[0]!;
  const { csrfToken } = login.json<{ csrfToken: string }>();
  assert.equal((await call('/api/streams', { headers: { cookie: session } })).status, 200, 'reading with the cookie');
  const noCsrf = await call('/api/auth/sign', { method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body: JSON.stringify({ path: 'live/cam1' }) });
  assert.equal(noCsrf.status, 403, 'a cross-site POST carrying the cookie is refused');
  const withCsrf = await call('/api/auth/sign', {
    method: 'POST',
    headers: { cookie: session, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
    body: JSON.stringify({ path: 'live/cam1' }),
  });
  assert.equal(withCsrf.status, 200, withCsrf.text);
  assert.equal((await call('/api/auth/logout', { method: 'POST', headers: { cookie: session, 'x-csrf-token': csrfToken } })).status, 200);
  assert.equal((await call('/api/streams', { headers: { cookie: session } })).status, 401, 'logged out');
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await call('/api/auth/login', { method: 'POST', ...jsonBody({ secret: `guess-${i}` }) })).status);
  assert.deepEqual(statuses, [401, 401, 429, 429], 'auth.loginLimit 3 per minute: the right login counted too');
  const right = await call('/api/auth/login', { method: 'POST', ...jsonBody({ secret: TEST_SECRETS.secret }) });
  assert.equal(right.status, 429, 'even the right secret waits out the window');
});

test('CORS: an unlisted origin is refused, the configured one is allowed', async () => {
  const preflight = (origin: string) =>
    call('/api/streams', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' } });
  const evil = await preflight('https://evil.example');
  assert.equal(evil.headers.get('access-control-allow-origin'), null, 'the browser is told no');
  const evilGet = await call('/api/streams', { headers: { ...bearer(), origin: 'https://evil.example' } });
  assert.equal(evilGet.status, 403, 'a page on another origin cannot use the API even with the secret');
  const good = await preflight(CONSOLE_ORIGIN);
  assert.ok(good.status === 204 || good.status === 200, String(good.status));
  assert.equal(good.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
  const goodGet = await call('/api/streams', { headers: { ...bearer(), origin: CONSOLE_ORIGIN } });
  assert.equal(goodGet.status, 200);
  assert.equal(goodGet.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
  assert.equal((await call('/api/streams', { headers: { ...bearer(), origin: gw.httpUrl } })).status, 200, 'same origin');
});

test('no answer and no log line of this run contains a secret or the camera password', async () => {
  // A viewer of the proxy path: UDP carries nothing, the pull falls back to TCP and logs the camera URL.
  const viewer = await ffprobeJson(`${gw.httpUrl}/cams/gate.flv?${gw.gateway.access.sign({ path: 'cams/gate' }).query}`, [], 20_000);
  assert.equal(viewer.code, 0, viewer.stderr);
  assert.equal(viewer.streams[0]?.codec_name, 'h264');
  const fallback = gw.logs().find((line) => line.includes('falling back to TCP'));
  assert.ok(fallback, 'the UDP-to-TCP fallback was logged');
  assert.match(fallback, /admin:\*\*\*@127\.0\.0\.1/, 'with the camera URL masked');
  const logs = gw.logs();
  assert.ok(logs.length > 50, `the log was captured (${logs.length} lines)`);
  assert.ok(
    logs.some((line) => /key=\*\*\*/.test(line)),
    'the publisher URL was logged, masked',
  );
  const secrets = [TEST_SECRETS.secret, TEST_SECRETS.publishKey, TEST_SECRETS.sipPassword, CAMERA_PASSWORD];
  for (const secret of secrets) {
    const inLog = logs.find((line) => line.includes(secret));
    assert.equal(inLog, undefined, `log line with a secret: ${inLog?.slice(0, 300)}`);
    const inAnswer = answers.find((text) => text.includes(secret));
    assert.equal(inAnswer, undefined, `answer with a secret: ${inAnswer?.slice(0, 300)}`);
  }
});
