import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deriveKey, ipOf, signToken, verifyToken } from '../../../src/app/access/tokens';

const KEY = deriveKey('a-test-admin-secret-of-some-length', 'signed-urls');
const NOW = 1_800_000_000;
const part = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).filter((p) => p !== '.' && p !== '..');
const path = fc.tuple(part, part).map(([a, b]) => `${a}/${b}`);
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((n) => n.join('.'));
const claims = fc.record({
  action: fc.constantFrom('play' as const, 'publish' as const),
  path,
  expiresAt: fc.integer({ min: NOW, max: NOW + 10 * 365 * 86_400 }),
  ip: fc.option(ipv4, { nil: undefined }),
});

test('a signed token verifies for its action, path, time and address', () => {
  fc.assert(
    fc.property(claims, (c) => {
      const token = signToken(KEY, c);
      const verdict = verifyToken(KEY, token, { action: c.action, path: c.path, nowSec: NOW, remote: c.ip ? `${c.ip}:5000` : '10.9.9.9:1' });
      assert.deepEqual(verdict, { ok: true });
    }),
  );
});

test('property: verification never throws, whatever the token', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), path, fc.option(fc.string(), { nil: undefined }), (token, p, remote) => {
      const verdict = verifyToken(KEY, token, { action: 'play', path: p, nowSec: NOW, remote });
      assert.equal(verdict.ok, false);
    }),
    { numRuns: 2000 },
  );
});

test('property: a token with any one character changed, added or removed is refused', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
  fc.assert(
    fc.property(claims, fc.nat(), fc.nat(alphabet.length - 1), fc.constantFrom('replace', 'insert', 'delete'), (c, at, pick, how) => {
      const token = signToken(KEY, c);
      const i = at % token.length;
      let changed: string;
      if (how === 'delete') changed = token.slice(0, i) + token.slice(i + 1);
      else if (how === 'insert') changed = token.slice(0, i) + alphabet[pick] + token.slice(i);
      else {
        const replacement = alphabet[pick] === token[i] ? alphabet[(pick + 1) % alphabet.length]! : alphabet[pick]!;
        changed = token.slice(0, i) + replacement + token.slice(i + 1);
      }
      fc.pre(changed !== token);
      const verdict = verifyToken(KEY, changed, { action: c.action, path: c.path, nowSec: NOW, remote: c.ip ? `${c.ip}:1` : undefined });
      assert.equal(verdict.ok, false, `${token} -> ${changed}`);
    }),
    { numRuns: 3000 },
  );
});

test('property: a token is refused for another path, another action, or under another key', () => {
  const otherKey = deriveKey('another-admin-secret-entirely', 'signed-urls');
  fc.assert(
    fc.property(claims, path, (c, other) => {
      fc.pre(other !== c.path);
      const token = signToken(KEY, c);
      const remote = c.ip ? `${c.ip}:1` : undefined;
      assert.equal(verifyToken(KEY, token, { action: c.action, path: other, nowSec: NOW, remote }).ok, false);
      assert.equal(verifyToken(KEY, token, { action: c.action === 'play' ? 'publish' : 'play', path: c.path, nowSec: NOW, remote }).ok, false);
      assert.equal(verifyToken(otherKey, token, { action: c.action, path: c.path, nowSec: NOW, remote }).ok, false);
    }),
  );
});

test('expired tokens and tokens bound to another client address are refused with the reason', () => {
  const token = signToken(KEY, { action: 'play', path: 'live/cam1', expiresAt: NOW + 60, ip: '192.0.2.7' });
  assert.deepEqual(verifyToken(KEY, token, { action: 'play', path: 'live/cam1', nowSec: NOW + 61, remote: '192.0.2.7:1' }), { ok: false, reason: 'token expired' });
  assert.deepEqual(verifyToken(KEY, token, { action: 'play', path: 'live/cam1', nowSec: NOW, remote: '192.0.2.8:1' }), {
    ok: false,
    reason: 'token bound to another client address',
  });
  assert.deepEqual(verifyToken(KEY, token, { action: 'play', path: 'live/cam1', nowSec: NOW, remote: '::ffff:192.0.2.7:4000' }), { ok: true });
  assert.equal(verifyToken(KEY, `${token}x`, { action: 'play', path: 'live/cam1', nowSec: NOW }).ok, false);
});

test('ipOf reads IPv4, IPv4-mapped and IPv6 peers', () => {
  assert.equal(ipOf('10.0.0.1:554'), '10.0.0.1');
  assert.equal(ipOf('::ffff:10.0.0.1:554'), '10.0.0.1');
  assert.equal(ipOf('[2001:db8::1]:80'), '2001:db8::1');
  assert.equal(ipOf(undefined), '');
});
