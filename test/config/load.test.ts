import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { envNameOf, loadConfig } from '../../src/config/load';
import { schemaKeys } from '../../src/config/schema';
import { GatewayError } from '../../src/core/errors';

const defaultsFile = join(__dirname, '..', '..', '..', 'conf', 'default.yaml');

function tempYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
  const file = join(dir, 'gw.yaml');
  writeFileSync(file, text);
  return file;
}

function expectConfigError(fn: () => unknown, key: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof GatewayError && err.code === 'CONFIG_INVALID' && key.test(err.message));
}

test('every schema key is in conf/default.yaml with a comment, and every yaml key is in the schema', () => {
  const doc = parseDocument(readFileSync(defaultsFile, 'utf8'));
  const documented = new Map<string, string | undefined>();
  const walk = (map: YAMLMap, prefix: string): void => {
    for (const pair of map.items) {
      const key = `${prefix}${String((pair.key as { value: unknown }).value)}`;
      if (isMap(pair.value)) walk(pair.value, `${key}.`);
      else documented.set(key, isScalar(pair.value) || isSeq(pair.value) ? (pair.value.comment ?? undefined) : undefined);
    }
  };
  walk(doc.contents as YAMLMap, '');
  const schema = schemaKeys()
    .map(([key]) => key)
    .sort();
  assert.deepEqual([...documented.keys()].sort(), schema);
  for (const [key, comment] of documented) assert.ok(comment && comment.trim().length > 5, `${key} needs a one-line comment`);
});

test('defaults load and have the documented values', () => {
  const config = loadConfig({ defaultsFile });
  assert.equal(config.http.port, 8080);
  assert.equal(config.rtmp.port, 1935);
  assert.equal(config.hub.closeAfter, 10);
  assert.equal(config.hub.gopCache.maxGops, 1);
});

test('--config merges over the defaults and GW_ variables override single keys', () => {
  const file = tempYaml('http:\n  port: 9000\nhub:\n  gopCache:\n    maxGops: 2\n');
  const config = loadConfig({
    defaultsFile,
    configFile: file,
    env: { GW_RTMP_PORT: '0', GW_HUB_CLOSE_AFTER: '2.5', GW_HTTP_CORS_ORIGINS: 'https://a.example https://b.example', PATH: '/bin' },
  });
  assert.equal(config.http.port, 9000);
  assert.equal(config.http.host, '0.0.0.0');
  assert.equal(config.hub.gopCache.maxGops, 2);
  assert.equal(config.hub.gopCache.maxFrames, 1500);
  assert.equal(config.rtmp.port, 0);
  assert.equal(config.hub.closeAfter, 2.5);
  assert.equal(config.http.cors.origins, 'https://a.example https://b.example');
  assert.equal(envNameOf('hub.gopCache.maxBytes'), 'GW_HUB_GOP_CACHE_MAX_BYTES');
});

test('a bad config names the key and the fault', () => {
  expectConfigError(() => loadConfig({ defaultsFile, configFile: tempYaml('http:\n  port: 70000\n') }), /"http\.port".*out of range/);
  expectConfigError(() => loadConfig({ defaultsFile, configFile: tempYaml('http:\n  prot: 80\n') }), /"http\.prot".*unknown key/);
  expectConfigError(() => loadConfig({ defaultsFile, configFile: tempYaml('log:\n  level: loud\n') }), /"log\.level".*one of/);
  expectConfigError(() => loadConfig({ defaultsFile, configFile: tempYaml('rtmp:\n  enabled: maybe\n') }), /"rtmp\.enabled".*true or false/);
  expectConfigError(() => loadConfig({ defaultsFile, env: { GW_HTTP_PORT: 'eighty' } }), /"http\.port".*number/);
  expectConfigError(() => loadConfig({ defaultsFile, env: { GW_NOPE: '1' } }), /GW_NOPE/);
  expectConfigError(() => loadConfig({ defaultsFile, configFile: tempYaml('http: [1, 2') }), /not valid YAML/);
  expectConfigError(() => loadConfig({ defaultsFile, configFile: '/nonexistent/gw.yaml' }), /cannot read/);
  expectConfigError(() => loadConfig({ defaultsFile, env: { GW_RTP_PORT_MIN: '31000', GW_RTP_PORT_MAX: '30000' } }), /"rtp\.portMax".*below rtp\.portMin/);
});

test('unquoted digit strings (a 20-digit sip.id, a 10-digit domain, a zero-led password) are read as written, not as rounded numbers', () => {
  // 34020000002000000001 is past 2^53: as a YAML number it would read 34020000002000000000.
  const file = tempYaml('sip:\n  id: 34020000002000000001\n  domain: 3402000000\n  password: 00123456\nhttp:\n  port: 9000\n');
  const config = loadConfig({ defaultsFile, configFile: file });
  assert.equal(config.sip.id, '34020000002000000001');
  assert.equal(config.sip.domain, '3402000000');
  assert.equal(config.sip.password, '00123456');
  assert.equal(config.http.port, 9000, 'number keys still read numbers');
  expectConfigError(() => loadConfig({ defaultsFile, configFile: tempYaml('http:\n  port: 99999999999999999999\n') }), /http\.port.*out of range/);
  expectConfigError(() => loadConfig({ defaultsFile, configFile: tempYaml('log:\n  level: 5\n') }), /log\.level.*got "5"/);
});
