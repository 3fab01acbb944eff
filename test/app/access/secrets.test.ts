import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load';
import { silentLogger } from '../../../src/core/log';
import { SECRETS_FILE, loadSecrets, secretsNotice, withSecrets } from '../../../src/app/access/secrets';
import { DEFAULTS_FILE } from '../../helpers/gateway';

function configIn(dir: string, env: Record<string, string> = {}) {
  return loadConfig({ defaultsFile: DEFAULTS_FILE, env: { GW_STORAGE_DIR: dir, ...env } });
}

test('no shipped secret: the defaults carry none', () => {
  const config = loadConfig({ defaultsFile: DEFAULTS_FILE });
  assert.equal(config.auth.secret, '');
  assert.equal(config.auth.publishKey, '');
  assert.equal(config.sip.password, '');
  assert.equal(config.auth.play, 'token');
  assert.equal(config.http.cors.origins, '');
});

test('first start generates the secrets into storage.dir/secrets.json with mode 0600; the next start reuses them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-secrets-'));
  try {
    const first = loadSecrets(configIn(dir), silentLogger());
    assert.deepEqual([...first.generated].sort(), ['publishKey', 'secret', 'sipPassword']);
    assert.equal(first.file, join(dir, SECRETS_FILE));
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    assert.ok(first.secret.length >= 40 && first.publishKey.length >= 20);
    assert.match(first.sipPassword, /^[A-Za-z0-9]{16}$/, 'cameras accept letters and digits');
    const stored = JSON.parse(readFileSync(first.file, 'utf8')) as Record<string, string>;
    assert.equal(stored.secret, first.secret);
    const notice = secretsNotice(first, withSecrets(configIn(dir), first), { http: 8080, rtmp: 1935 });
    for (const value of [first.secret, first.publishKey, first.sipPassword, first.file]) assert.ok(notice.includes(value), 'printed once');
    assert.match(notice, /rtmp:\/\/127\.0\.0\.1:1935\/live\/cam1\?key=/);
    chmodSync(first.file, 0o644);
    const second = loadSecrets(configIn(dir), silentLogger());
    assert.deepEqual(second.generated, []);
    assert.equal(second.secret, first.secret);
    assert.equal(second.sipPassword, first.sipPassword);
    assert.equal(statSync(first.file).mode & 0o777, 0o600, 'a file readable by others is tightened');
    const later = secretsNotice(second, withSecrets(configIn(dir), second), {});
    assert.ok(!later.includes(first.secret) && later.includes(first.file), 'later starts only say where they are');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a value in the config or GW_ wins over the stored or generated one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-secrets-'));
  try {
    loadSecrets(configIn(dir), silentLogger());
    const config = configIn(dir, { GW_AUTH_SECRET: 'my-own-admin-secret-0001', GW_SIP_PASSWORD: 'camPass9' });
    const secrets = loadSecrets(config, silentLogger());
    assert.equal(secrets.secret, 'my-own-admin-secret-0001');
    assert.equal(secrets.sipPassword, 'camPass9');
    assert.deepEqual([...secrets.configured].sort(), ['secret', 'sipPassword']);
    const effective = withSecrets(config, secrets);
    assert.equal(effective.auth.secret, 'my-own-admin-secret-0001');
    assert.equal(effective.auth.publishKey, secrets.publishKey);
    const fresh = mkdtempSync(join(tmpdir(), 'gw-secrets-'));
    const generated = loadSecrets(configIn(fresh, { GW_AUTH_SECRET: 'my-own-admin-secret-0001' }), silentLogger());
    const notice = secretsNotice(generated, withSecrets(configIn(fresh), generated), {});
    assert.ok(!notice.includes('my-own-admin-secret-0001'), 'a configured secret is never printed');
    rmSync(fresh, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auth.play: hook without hooks.on_play stops the start (it would let everyone watch)', () => {
  assert.throws(() => loadConfig({ defaultsFile: DEFAULTS_FILE, env: { GW_AUTH_PLAY: 'hook' } }), /config key "auth\.play": hook needs hooks\.on_play/);
  assert.equal(loadConfig({ defaultsFile: DEFAULTS_FILE, env: { GW_AUTH_PLAY: 'hook', GW_HOOKS_ON_PLAY: 'http://127.0.0.1:9/on_play' } }).auth.play, 'hook');
});
