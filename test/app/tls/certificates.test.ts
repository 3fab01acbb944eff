import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { TlsCertificates } from '../../../src/app/tls/certificates';
import { readServerTls, readTrustedCas } from '../../../src/app/tls/files';
import { loadConfig } from '../../../src/config/load';
import { GatewayError } from '../../../src/core/errors';
import { DEFAULTS_FILE, capturingLogger, waitFor } from '../../helpers/gateway';
import { makeTestPki, type TestPki } from '../../helpers/stunnel';

let dir: string;
let a: TestPki;
let b: TestPki;
const files = () => ({ cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') });
const fingerprint = (pki: TestPki) => new X509Certificate(readFileSync(pki.certFile)).fingerprint256;

function install(pki: TestPki): void {
  copyFileSync(pki.certFile, files().cert);
  copyFileSync(pki.keyFile, files().key);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-tls-unit-'));
  a = makeTestPki({ ips: ['127.0.0.1'], dns: [] });
  b = makeTestPki({ ips: ['127.0.0.1'], dns: [] });
});

after(() => {
  for (const d of [dir, a.dir, b.dir]) rmSync(d, { recursive: true, force: true });
});

function configError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.message;
  }
  assert.fail('expected a CONFIG_INVALID error');
}

test('readServerTls names the key and the file of what is wrong, never the bytes', () => {
  install(a);
  assert.match(
    configError(() => readServerTls({ ...files(), cert: join(dir, 'nope.pem') })),
    /"tls\.cert": cannot read .*nope\.pem: ENOENT/,
  );
  writeFileSync(join(dir, 'text.pem'), 'not a pem');
  assert.match(
    configError(() => readServerTls({ ...files(), key: join(dir, 'text.pem') })),
    /"tls\.key": .*text\.pem holds no PEM private key/,
  );
  assert.match(
    configError(() => readServerTls({ ...files(), cert: join(dir, 'key.pem') })),
    /"tls\.cert": .*holds no PEM certificate/,
  );
  const mismatch = configError(() => readServerTls({ cert: a.certFile, key: b.keyFile }));
  assert.match(mismatch, /are not a usable pair: key values mismatch/);
  assert.doesNotMatch(mismatch, /PRIVATE KEY|MII/);
  const loaded = readServerTls(files());
  assert.equal(loaded.summary.fingerprint256, fingerprint(a));
  assert.equal(loaded.summary.expired, false);
  assert.match(loaded.summary.subjectAltName, /IP Address:127\.0\.0\.1/);
});

test('the config refuses a TLS listener without cert and key, or without its plain server', () => {
  const load = (env: Record<string, string>) => () => loadConfig({ defaultsFile: DEFAULTS_FILE, env });
  assert.match(configError(load({ GW_TLS_RTMPS_ENABLED: 'true' })), /"tls\.cert": must name the PEM certificate file/);
  assert.match(configError(load({ GW_TLS_HTTPS_ENABLED: 'true', GW_TLS_CERT: 'c.pem' })), /"tls\.key": must name the PEM private key file/);
  assert.match(
    configError(load({ GW_TLS_HTTPS_ENABLED: 'true', GW_TLS_CERT: 'c.pem', GW_TLS_KEY: 'k.pem', GW_HTTP_ENABLED: 'false' })),
    /"tls\.https\.enabled": needs http\.enabled/,
  );
  assert.equal(loadConfig({ defaultsFile: DEFAULTS_FILE, env: {} }).tls.https.enabled, false, 'every TLS listener is off by default');
});

test('readTrustedCas reads tls.ca and relay.tlsCaFile, and names the key of a bad one', () => {
  const config = loadConfig({ defaultsFile: DEFAULTS_FILE, env: { GW_TLS_CA: a.caFile, GW_RELAY_TLS_CA_FILE: b.caFile } });
  assert.deepEqual(readTrustedCas(config), [a.ca, b.ca]);
  assert.deepEqual(readTrustedCas(loadConfig({ defaultsFile: DEFAULTS_FILE, env: {} })), []);
  assert.match(
    configError(() => readTrustedCas({ ...config, relay: { ...config.relay, tlsCaFile: join(dir, 'none.pem') } })),
    /"relay\.tlsCaFile": cannot read/,
  );
});

/** A TLS echo server on the store's context; returns its port. */
async function echoServer(certificates: TlsCertificates): Promise<{ server: Server; port: number }> {
  const server = createServer(certificates.options, (socket) => socket.pipe(socket));
  certificates.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function dial(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function echo(socket: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (data: Buffer) => resolve(data.toString()));
    socket.write(text);
  });
}

test('reload: new connections get the new pair, an open one keeps working; a bad pair keeps the old one', async () => {
  install(a);
  const { log, lines } = capturingLogger('debug');
  const certificates = new TlsCertificates(files(), log);
  const { server, port } = await echoServer(certificates);
  const open = await dial(port);
  try {
    assert.equal(open.getPeerCertificate().fingerprint256, fingerprint(a));
    install(b);
    assert.equal(certificates.reload('SIGHUP'), true);
    const fresh = await dial(port);
    assert.equal(fresh.getPeerCertificate().fingerprint256, fingerprint(b));
    fresh.destroy();
    assert.equal(await echo(open, 'still here'), 'still here', 'the session from before the reload is untouched');

    copyFileSync(a.keyFile, files().key); // b's certificate with a's key
    assert.equal(certificates.reload('SIGHUP'), false);
    const after = await dial(port);
    assert.equal(after.getPeerCertificate().fingerprint256, fingerprint(b), 'the last good pair is still served');
    after.destroy();
    const failed = lines.find((l) => String(l.msg).startsWith('TLS certificate reload failed'));
    assert.ok(failed, 'the failed reload is logged');
    assert.match(String(failed.err), /key values mismatch/);
    assert.doesNotMatch(JSON.stringify(lines), /PRIVATE KEY/);
  } finally {
    open.destroy();
    certificates.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a change of the files is picked up after the watch delay, once for a burst of writes', async () => {
  install(a);
  const { log, lines } = capturingLogger('info');
  const certificates = new TlsCertificates(files(), log);
  const { server, port } = await echoServer(certificates);
  try {
    certificates.watch(200);
    // certbot and editors write the key and the certificate one after the other: one reload.
    copyFileSync(b.keyFile, files().key);
    copyFileSync(b.certFile, files().cert);
    await waitFor(() => lines.some((l) => l.msg === 'TLS certificate loaded' && l.reason === 'file change'), 5000, 'the reload after the change');
    const socket = await dial(port);
    assert.equal(socket.getPeerCertificate().fingerprint256, fingerprint(b));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(lines.filter((l) => l.reason === 'file change').length, 1, 'debounced into one reload');
    assert.equal(
      lines.some((l) => String(l.msg).startsWith('TLS certificate reload failed')),
      false,
      'the half-written pair was never loaded',
    );
  } finally {
    certificates.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
