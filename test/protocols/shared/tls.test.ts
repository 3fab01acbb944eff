import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, rootCertificates, type Server } from 'node:tls';
import { checkPeer, tlsClientOptions, type TlsTrust } from '../../../src/protocols/shared/tls';
import { makeTestPki, type TestPki } from '../../helpers/stunnel';

let right: TestPki;
let otherHost: TestPki;
const servers: Server[] = [];

before(() => {
  right = makeTestPki({ ips: ['127.0.0.1'], dns: [] });
  otherHost = makeTestPki({ ips: [], dns: ['other.example'] });
});

after(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  for (const pki of [right, otherHost]) rmSync(pki.dir, { recursive: true, force: true });
});

async function serve(pki: TestPki): Promise<number> {
  const server = createServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (socket) => socket.end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Connects as the RTMP client does: Node's verdict, then checkPeer's. */
function verdict(port: number, trust: TlsTrust): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(tlsClientOptions('127.0.0.1', port, trust), () => {
      const refused = checkPeer(socket, '127.0.0.1', trust);
      socket.destroy();
      resolve(refused ? `refused: ${refused.message}` : 'ok');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(`refused: ${err.code ?? err.message}`));
  });
}

test('tlsClientOptions: SNI for names only, extra CAs on top of the bundle, verification on unless allowSelfSigned', () => {
  assert.equal(tlsClientOptions('127.0.0.1', 443).servername, undefined);
  assert.equal(tlsClientOptions('cdn.example', 443).servername, 'cdn.example');
  assert.equal(tlsClientOptions('cdn.example', 443).ca, undefined, "Node's bundle alone");
  const ca = tlsClientOptions('cdn.example', 443, { ca: ['PEM'] }).ca as string[];
  assert.equal(ca.length, rootCertificates.length + 1);
  assert.equal(ca.at(-1), 'PEM');
  assert.equal(tlsClientOptions('cdn.example', 443).rejectUnauthorized, true);
  assert.equal(tlsClientOptions('cdn.example', 443, { allowSelfSigned: true }).rejectUnauthorized, false);
});

test('a private CA is trusted once given, and allowSelfSigned forgives the issuer but never the host name', async () => {
  const good = await serve(right);
  const wrongName = await serve(otherHost);
  assert.match(await verdict(good, {}), /^refused: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
  assert.equal(await verdict(good, { ca: [right.ca] }), 'ok');
  assert.equal(await verdict(good, { allowSelfSigned: true }), 'ok');
  assert.match(await verdict(wrongName, { ca: [otherHost.ca] }), /^refused: ERR_TLS_CERT_ALTNAME_INVALID/);
  assert.match(await verdict(wrongName, { allowSelfSigned: true }), /^refused: .*IP: 127\.0\.0\.1 is not in the cert's list/);
});
