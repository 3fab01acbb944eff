import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/load';
import type { AdmissionRequest } from '../../../src/core/admission';
import { silentLogger } from '../../../src/core/log';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { AccessControl } from '../../../src/app/access/access';
import { DEFAULTS_FILE } from '../../helpers/gateway';
import { H264_TEST_TRACK, RecordingSink, videoFrame } from '../../helpers/hub-fixtures';

const AUTH = { ...loadConfig({ defaultsFile: DEFAULTS_FILE }).auth, secret: 'unit-test-admin-secret-123456', publishKey: 'unit-key-1' };

function setup(owned: Record<string, string> = {}) {
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, reconnectGraceMs: 60_000 }, silentLogger());
  const access = new AccessControl(AUTH, registry, (path) => owned[path]);
  return { registry, access };
}

const publish = (path: string, query: Record<string, string>, remote = '10.0.0.5:40000', protocol = 'rtmp'): AdmissionRequest => ({
  action: 'publish',
  path,
  protocol,
  remote,
  query,
});
const play = (path: string, query: Record<string, string>, remote = '10.0.0.9:50000'): AdmissionRequest => ({ action: 'play', path, protocol: 'http-flv', remote, query });

test('publish: the key or a signed URL is needed; a wrong one is forbidden', async () => {
  const { access, registry } = setup();
  assert.deepEqual(access.publishCheck(publish('live/cam1', { key: 'unit-key-1' })), { allow: true });
  const missing = access.publishCheck(publish('live/cam1', {}));
  assert.equal(missing.allow, false);
  assert.equal(!missing.allow && missing.status, 'unauthorized');
  const wrong = access.publishCheck(publish('live/cam1', { key: 'unit-key-2' }));
  assert.equal(!wrong.allow && wrong.status, 'forbidden');
  const signed = access.sign({ path: 'live/cam1', action: 'publish' });
  assert.equal(signed.query.startsWith('sign='), true);
  assert.deepEqual(access.publishCheck(publish('live/cam1', { sign: signed.token })), { allow: true });
  assert.equal(access.publishCheck(publish('live/cam2', { sign: signed.token })).allow, false, 'signed for another path');
  assert.equal(access.publishCheck(publish('live/cam1', { sign: access.sign({ path: 'live/cam1' }).token })).allow, false, 'a play token does not publish');
  await registry.close();
});

test('publish: paths of GB28181, RTSP proxies and RTP receivers are never taken over, even with the key', async () => {
  const { access, registry } = setup({ 'cams/gate': 'an RTSP proxy' });
  for (const path of ['cams/gate', 'rtp/34020000001320000001_34020000001310000001', 'rtp/cam7']) {
    const result = access.publishCheck(publish(path, { key: 'unit-key-1' }));
    assert.equal(result.allow, false, path);
    assert.equal(!result.allow && result.status, 'forbidden');
    assert.match(!result.allow ? result.reason : '', /cannot take it over/);
  }
  assert.deepEqual(access.publishCheck({ ...publish('rtp/cam7', {}), internal: true }), { allow: true }, "the gateway's own receiver");
  await registry.close();
});

test('publish: during the reconnect grace only the same source (protocol and IP) or a signed URL resumes the path', async () => {
  const { access, registry } = setup();
  const publisher = registry.publish('live/grace', { kind: 'rtmp', remote: '10.0.0.5:40000', close: () => undefined });
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  await registry.subscribe('live/grace', new RecordingSink()); // a viewer keeps the stream through the grace
  publisher.end('the encoder dropped');
  assert.equal(registry.get('live/grace')?.state, 'grace');
  const stranger = access.publishCheck(publish('live/grace', { key: 'unit-key-1' }, '10.0.0.66:1234'));
  assert.equal(stranger.allow, false);
  assert.match(!stranger.allow ? stranger.reason : '', /waiting for its publisher to reconnect/);
  assert.equal(access.publishCheck(publish('live/grace', { key: 'unit-key-1' }, '10.0.0.5:1234', 'rtsp')).allow, false, 'another protocol from the same host');
  assert.deepEqual(access.publishCheck(publish('live/grace', { key: 'unit-key-1' }, '10.0.0.5:40001')), { allow: true }, 'the encoder again, from a new port');
  const signed = access.sign({ path: 'live/grace', action: 'publish' }).token;
  assert.deepEqual(access.publishCheck(publish('live/grace', { sign: signed }, '10.0.0.66:1234')), { allow: true }, 'an authorised replacement');
  await registry.close();
});

test('play under auth.play token: a valid token plays, none is 401, forged or expired is 403; open lets anyone in', async () => {
  let now = 1_800_000_000_000;
  const registry = new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger());
  const access = new AccessControl(
    AUTH,
    registry,
    () => undefined,
    () => now,
  );
  const signed = access.sign({ path: 'live/cam1', expiresIn: 60 });
  assert.deepEqual(access.playCheck(play('live/cam1', { token: signed.token })), { allow: true });
  const none = access.playCheck(play('live/cam1', {}));
  assert.equal(!none.allow && none.status, 'unauthorized');
  const forged = access.playCheck(play('live/cam1', { token: `${signed.token.slice(0, -1)}${signed.token.endsWith('A') ? 'B' : 'A'}` }));
  assert.equal(!forged.allow && forged.status, 'forbidden');
  assert.equal(access.playCheck(play('live/cam2', { token: signed.token })).allow, false, 'another path');
  const bound = access.sign({ path: 'live/cam1', ip: '10.0.0.9' });
  assert.deepEqual(access.playCheck(play('live/cam1', { token: bound.token })), { allow: true });
  assert.equal(access.playCheck(play('live/cam1', { token: bound.token }, '10.0.0.10:1')).allow, false, 'another client');
  now += 61_000;
  const expired = access.playCheck(play('live/cam1', { token: signed.token }));
  assert.equal(!expired.allow && expired.reason, 'play refused: token expired');
  assert.deepEqual(access.playCheck({ ...play('live/cam1', {}), internal: true }), { allow: true }, 'the recorder and pushes are internal');
  const open = new AccessControl({ ...AUTH, play: 'open' }, registry, () => undefined);
  assert.deepEqual(open.playCheck(play('live/cam1', {})), { allow: true });
  assert.equal(open.playQuery('live/cam1'), '');
  assert.match(access.playQuery('live/cam1'), /^\?token=\d+\.\.[A-Za-z0-9_-]{43}$/);
  await registry.close();
});

test('the admin secret is compared whole', () => {
  const { access } = setup();
  assert.equal(access.isAdminSecret('unit-test-admin-secret-123456'), true);
  assert.equal(access.isAdminSecret('unit-test-admin-secret-12345'), false);
  assert.equal(access.isAdminSecret(undefined), false);
  assert.equal(access.isAdminSecret(''), false);
});
