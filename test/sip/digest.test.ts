import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { NonceStore, digestChallenge, nonceCount, readDigest, verifyDigest } from '../../sip/digest';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function credentials(password: string, nonce: string, nc = '00000001') {
  const ha1 = md5(`34020000001320000001:3402000000:${password}`);
  const ha2 = md5('REGISTER:sip:34020000002000000001@3402000000');
  const response = md5(`${ha1}:${nonce}:${nc}:0a4f113b:auth:${ha2}`);
  return readDigest([
    {
      scheme: 'Digest',
      username: '"34020000001320000001"',
      realm: '"3402000000"',
      nonce: `"${nonce}"`,
      uri: '"sip:34020000002000000001@3402000000"',
      response: `"${response}"`,
      algorithm: 'MD5',
      qop: 'auth',
      nc,
      cnonce: '"0a4f113b"',
    },
  ])!;
}

test('digest MD5 with qop=auth verifies the right password only', () => {
  const c = credentials('12345678', 'abc');
  assert.equal(verifyDigest(c, 'REGISTER', '12345678'), true);
  assert.equal(verifyDigest(c, 'REGISTER', 'wrong'), false);
  assert.equal(verifyDigest(c, 'INVITE', '12345678'), false);
  assert.equal(nonceCount(c), 1);
});

test('the RFC 2069 form (no qop) of old devices verifies too', () => {
  const ha1 = md5('34020000001320000001:3402000000:pw');
  const response = md5(`${ha1}:n1:${md5('REGISTER:sip:x@y')}`);
  const c = readDigest([{ scheme: 'Digest', username: '"34020000001320000001"', realm: '"3402000000"', nonce: '"n1"', uri: '"sip:x@y"', response: `"${response}"` }])!;
  assert.equal(verifyDigest(c, 'REGISTER', 'pw'), true);
  assert.equal(nonceCount(c), undefined);
});

test('challenge header: realm = domain, qop auth, MD5', () => {
  assert.deepEqual(digestChallenge('3402000000', 'n'), { scheme: 'Digest', realm: '"3402000000"', qop: '"auth"', nonce: '"n"', algorithm: 'MD5' });
  assert.equal(digestChallenge('3402000000', 'n', true).stale, 'TRUE');
});

test('nonces: only ours, only for their device, only before expiry, nonce-count must grow', () => {
  const store = new NonceStore({ ttlMs: 1000, maxNonces: 10 });
  const nonce = store.issue('dev-a', 0);
  assert.equal(store.use('not-issued', 'dev-a', 1, 10), 'unknown');
  assert.equal(store.use(nonce, 'dev-b', 1, 10), 'foreign');
  assert.equal(store.use(nonce, 'dev-a', 1, 10), 'ok');
  assert.equal(store.use(nonce, 'dev-a', 1, 20), 'replayed');
  assert.equal(store.use(nonce, 'dev-a', 2, 30), 'ok');
  assert.equal(store.use(nonce, 'dev-a', 3, 2000), 'expired');
  const once = store.issue('dev-a', 0);
  assert.equal(store.use(once, 'dev-a', undefined, 10), 'ok');
  assert.equal(store.use(once, 'dev-a', undefined, 20), 'unknown', 'without qop a nonce is single-use');
});

test('the nonce store is bounded and sweeps expired nonces', () => {
  const store = new NonceStore({ ttlMs: 100, maxNonces: 5 });
  const first = store.issue('d', 0);
  for (let i = 0; i < 10; i++) store.issue('d', i);
  assert.equal(store.size, 5);
  assert.equal(store.use(first, 'd', 1, 5), 'unknown');
  store.sweep(1000);
  assert.equal(store.size, 0);
});
