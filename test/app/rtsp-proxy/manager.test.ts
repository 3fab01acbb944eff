import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/log';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { loadConfig } from '../../../src/config/load';
import { ProxyManager, proxySettingsFrom, type ProxyManagerDeps } from '../../../src/app/rtsp-proxy/manager';
import { openDatabase } from '../../../storage/db';
import { ProxyRepo } from '../../../storage/repos/proxies';
import { RecordingSink, sleep } from '../../helpers/hub-fixtures';
import { startScriptCamera } from '../../helpers/rtsp-script-camera';
import { DEFAULTS_FILE, waitFor } from '../../helpers/gateway';

const settings = { ...proxySettingsFrom(loadConfig({ defaultsFile: DEFAULTS_FILE }).rtsp), reconnectMinMs: 100, reconnectMaxMs: 400 };

function expectCode(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof GatewayError && err.code === code && message.test(err.message));
}

/** A script camera and a proxy manager over a fresh database and hub; `close` ends them all. */
async function withCamera(hubOptions: Partial<typeof DEFAULT_REGISTRY_OPTIONS>, placement?: ProxyManagerDeps['placement']) {
  const camera = await startScriptCamera();
  const dir = mkdtempSync(join(tmpdir(), 'gw-proxies-'));
  const db = openDatabase(dir, silentLogger());
  const hub = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, ...hubOptions }, silentLogger());
  const manager = new ProxyManager({ registry: hub, repo: new ProxyRepo(db), config: [], settings, log: silentLogger(), ...(placement ? { placement } : {}) });
  const close = async () => {
    await manager.close();
    await hub.close();
    db.close();
    await camera.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { camera, hub, manager, close };
}

test('API proxies persist across restarts; config proxies are listed read-only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-proxies-'));
  const config = [{ path: 'cfg/door', url: 'rtsp://10.0.0.9/live', transport: 'auto' as const, onDemand: true }];
  try {
    let db = openDatabase(dir, silentLogger());
    let hub = new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger());
    let manager = new ProxyManager({ registry: hub, repo: new ProxyRepo(db), config, settings, log: silentLogger() });
    manager.start();
    const created = manager.create({ path: 'cams/gate', url: 'rtsp://admin:secret@10.0.0.7:554/Streaming/Channels/101', transport: 'tcp' });
    assert.equal(created.url, 'rtsp://admin:***@10.0.0.7:554/Streaming/Channels/101');
    assert.equal(created.onDemand, true);
    assert.equal(created.status.state, 'idle');
    expectCode(() => manager.create({ path: 'cams/gate', url: 'rtsp://x/y' }), 'STREAM_BUSY', /already pulled/);
    expectCode(() => manager.create({ path: 'cfg/door', url: 'rtsp://x/y' }), 'STREAM_BUSY', /config-1/);
    expectCode(() => manager.create({ path: 'no-slash', url: 'rtsp://x/y' }), 'BAD_REQUEST', /invalid stream path/);
    expectCode(() => manager.create({ path: 'a/b', url: 'http://x/y' }), 'BAD_REQUEST', /must end in \.flv/);
    expectCode(() => manager.create({ path: 'a/b', url: 'ftp://x/y.flv' }), 'BAD_REQUEST', /rtsp:\/\/, rtmp:\/\/, rtmps:\/\/ or http/);
    expectCode(() => manager.create({ path: 'a/b', url: 'rtmp://x/app' }), 'BAD_REQUEST', /needs an app and a stream name/);
    await assert.rejects(manager.update('config-1', { transport: 'tcp' }), /declared in the config file/);
    await assert.rejects(manager.update('nope', { transport: 'tcp' }), /proxy nope not found/);
    const updated = await manager.update(created.id, { transport: 'udp', onDemand: false });
    assert.equal(updated.transport, 'udp');
    assert.equal(updated.onDemand, false);
    await manager.close();
    await hub.close();
    db.close();

    db = openDatabase(dir, silentLogger());
    hub = new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger());
    manager = new ProxyManager({ registry: hub, repo: new ProxyRepo(db), config, settings, log: silentLogger() });
    manager.start();
    const list = manager.list();
    assert.deepEqual(
      list.map((p) => [p.id, p.origin, p.path, p.transport, p.onDemand]),
      [
        ['config-1', 'config', 'cfg/door', 'auto', true],
        [created.id, 'api', 'cams/gate', 'udp', false],
      ],
    );
    assert.equal(await manager.remove(created.id), true);
    assert.equal(await manager.remove(created.id), false);
    assert.deepEqual(new ProxyRepo(db).list(), []);
    await manager.close();
    await hub.close();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on demand: the first viewer starts the pull, closeAfter after the last one TEARDOWN', { timeout: 20_000 }, async () => {
  const { camera, hub, manager, close } = await withCamera({ closeAfterMs: 300, trackWaitMs: 300 });
  try {
    manager.start();
    const proxy = manager.create({ path: 'cams/lobby', url: camera.url(), transport: 'tcp' });
    await sleep(200);
    assert.equal(camera.requests.length, 0, 'nothing connects before a viewer');
    const sink = new RecordingSink();
    const subscription = await hub.subscribe('cams/lobby', sink);
    assert.equal(manager.get(proxy.id)!.status.state, 'playing');
    await waitFor(() => sink.frames.length > 5, 3000, 'frames');
    subscription.close();
    await waitFor(() => camera.requests.some((r) => r.method === 'TEARDOWN'), 3000, 'TEARDOWN after closeAfter');
    assert.equal(manager.get(proxy.id)!.status.state, 'stopped');
    // A new viewer starts it again.
    const again = await hub.subscribe('cams/lobby', new RecordingSink());
    assert.equal(manager.get(proxy.id)!.status.state, 'playing');
    again.close();
  } finally {
    await close();
  }
});

test('config: proxies entries are checked and a fault names the key and the index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-proxies-config-'));
  const file = (text: string): string => {
    const path = join(dir, `c${Math.random()}.yaml`);
    writeFileSync(path, text);
    return path;
  };
  const expectError = (text: string, message: RegExp): void => {
    assert.throws(
      () => loadConfig({ defaultsFile: DEFAULTS_FILE, configFile: file(text) }),
      (err: unknown) => err instanceof GatewayError && err.code === 'CONFIG_INVALID' && message.test(err.message),
    );
  };
  try {
    const config = loadConfig({
      defaultsFile: DEFAULTS_FILE,
      configFile: file('proxies:\n  - path: cams/a\n    url: rtsp://10.0.0.1/x\n  - path: cams/b\n    url: rtsp://10.0.0.2/y\n    transport: tcp\n    onDemand: false\n'),
    });
    assert.deepEqual(config.proxies, [
      { path: 'cams/a', url: 'rtsp://10.0.0.1/x', transport: 'auto', onDemand: true },
      { path: 'cams/b', url: 'rtsp://10.0.0.2/y', transport: 'tcp', onDemand: false },
    ]);
    expectError('proxies:\n  - path: cams/a\n', /"proxies\[0\]\.url": missing/);
    expectError(
      'proxies:\n  - path: cams/a\n    url: rtsp://x/\n  - path: cams/b\n    url: ftp://x/\n',
      /"proxies\[1\]\.url": expected an rtsp:\/\/, rtmp:\/\/, rtmps:\/\/ or http\(s\):\/\/\.\.\.flv URL/,
    );
    expectError('proxies:\n  - path: cams/a\n    url: rtsp://x/\n    transport: quic\n', /"proxies\[0\]\.transport": expected one of auto, tcp, udp/);
    expectError('proxies:\n  - path: cams/a\n    url: rtsp://x/\n    color: red\n', /"proxies\[0\]\.color": unknown key/);
    expectError('proxies: cams/a\n', /"proxies": expected a list/);
    const fromEnv = loadConfig({ defaultsFile: DEFAULTS_FILE, env: { GW_PROXIES: '[{"path":"e/f","url":"rtsp://h/p","onDemand":false}]' } });
    assert.deepEqual(fromEnv.proxies, [{ path: 'e/f', url: 'rtsp://h/p', transport: 'auto', onDemand: false }]);
    assert.throws(() => loadConfig({ defaultsFile: DEFAULTS_FILE, env: { GW_PROXIES: '[{' } }), /"proxies": expected a JSON array/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rtsp.maxProxies caps config, API and hook pulls together; refusals are counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-proxy-cap-'));
  const db = openDatabase(dir, silentLogger());
  const hub = new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger());
  let refusals = 0;
  const manager = new ProxyManager({
    registry: hub,
    repo: new ProxyRepo(db),
    config: [{ path: 'cfg/one', url: 'rtsp://10.0.0.9/live', transport: 'auto', onDemand: true }],
    settings,
    log: silentLogger(),
    maxProxies: 2,
    refused: () => refusals++,
  });
  try {
    manager.start();
    const second = manager.create({ path: 'api/two', url: 'rtsp://10.0.0.8/live' });
    expectCode(() => manager.create({ path: 'api/three', url: 'rtsp://10.0.0.7/live' }), 'UNAVAILABLE', /at most 2 pull proxies \(rtsp\.maxProxies\)/);
    expectCode(() => manager.hookPulls.start('hook/four', 'rtsp://10.0.0.6/live'), 'UNAVAILABLE', /rtsp\.maxProxies/);
    assert.equal(refusals, 2);
    await manager.update(second.id, { transport: 'tcp' });
    assert.equal(await manager.remove(second.id), true);
    manager.create({ path: 'api/three', url: 'rtsp://10.0.0.7/live' });
  } finally {
    await manager.close();
    await hub.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an always-on proxy connects only while its job is placed in this process, again after it moved away and back', { timeout: 20_000 }, async () => {
  const jobs: { start: () => () => void; ended: boolean }[] = [];
  const placement = {
    runJob: (_path: string, start: () => () => void) => {
      const job = { start, ended: false };
      jobs.push(job);
      return () => void (job.ended = true);
    },
  };
  const { camera, manager, close } = await withCamera({}, placement);
  try {
    manager.start();
    const { id } = manager.create({ path: 'cams/yard', url: camera.url(), transport: 'tcp', onDemand: false });
    const state = () => manager.get(id)!.status.state;
    await sleep(200);
    assert.equal(jobs.length, 1);
    assert.equal(camera.requests.length, 0, 'not placed here: it does not connect');
    const stop = jobs[0]!.start();
    await waitFor(() => state() === 'playing', 5000, 'playing once placed here');
    stop();
    await waitFor(() => state() === 'stopped' && camera.requests.some((r) => r.method === 'TEARDOWN'), 5000, 'TEARDOWN once placed elsewhere');
    jobs[0]!.start();
    await waitFor(() => state() === 'playing', 5000, 'playing again once placed back');
    await manager.remove(id);
    assert.equal(jobs[0]!.ended, true, 'its placement ended with the proxy');
    // A pull asked for by on_stream_not_found runs where the hook was called, not placed.
    manager.hookPulls.start('hook/gate', camera.url());
    assert.equal(jobs.length, 1);
    await waitFor(() => manager.list().find((p) => p.path === 'hook/gate')?.status.state === 'playing', 5000, 'the hook pull playing here');
  } finally {
    await close();
  }
});
