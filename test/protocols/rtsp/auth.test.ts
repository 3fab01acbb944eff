import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import { buildAuthorization, chooseChallenge, parseAuthorization, parseChallenges, type ChosenChallenge } from '../../../src/protocols/rtsp/auth';
import { RTSP_REALM, RtspServerAuth } from '../../../src/protocols/rtsp/server-auth';
import { createHash } from 'node:crypto';

function params(authorization: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of authorization.replace(/^Digest /, '').matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) out.set(m[1]!, m[2] ?? m[3]!);
  return out;
}

test('parses one or several challenges, quoted strings with escapes, params without commas', () => {
  assert.deepEqual(parseChallenges('Basic realm="IP Camera(C1234)"'), [{ scheme: 'basic', params: new Map([['realm', 'IP Camera(C1234)']]) }]);
  const both = parseChallenges('Digest realm="a \\"b\\"", nonce="n1", algorithm=MD5, qop="auth,auth-int", Basic realm="c"');
  assert.deepEqual(
    both.map((c) => c.scheme),
    ['digest', 'basic'],
  );
  assert.equal(both[0]!.params.get('realm'), 'a "b"');
  assert.equal(both[0]!.params.get('algorithm'), 'MD5');
  assert.equal(both[0]!.params.get('qop'), 'auth,auth-int');
  // Some cameras forget the commas.
  const sloppy = parseChallenges('Digest realm="Restricted" qop="auth" nonce="5c78edabb2b8e" opaque="cdce"');
  assert.equal(sloppy[0]!.params.get('nonce'), '5c78edabb2b8e');
  assert.equal(sloppy[0]!.params.get('opaque'), 'cdce');
  // A token68 after the scheme is skipped.
  assert.deepEqual(
    parseChallenges('Negotiate YWJjZA==, Basic realm="x"').map((c) => c.scheme),
    ['negotiate', 'basic'],
  );
  assert.throws(() => parseChallenges('Digest realm="unterminated'), ParseError);
});

test('chooses Digest SHA-256 over Digest MD5 over Basic, skips what it cannot answer', () => {
  const all = [
    ...parseChallenges('Basic realm="r"'),
    ...parseChallenges('Digest realm="r", nonce="n", algorithm=MD5'),
    ...parseChallenges('Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"'),
    ...parseChallenges('Digest realm="r", nonce="n", algorithm=SHA-512-256'),
  ];
  assert.equal((chooseChallenge(all) as { algorithm?: string }).algorithm, 'SHA-256');
  assert.equal((chooseChallenge(all.slice(0, 2)) as { algorithm?: string }).algorithm, 'MD5');
  assert.equal(chooseChallenge(all.slice(0, 1))?.scheme, 'basic');
  assert.equal(chooseChallenge(parseChallenges('Digest realm="r", nonce="n", qop="auth-int"')), undefined);
  assert.equal(chooseChallenge(parseChallenges('Digest realm="r"')), undefined);
  assert.equal(chooseChallenge(parseChallenges('NTLM')), undefined);
});

test('Basic is base64 of user:password', () => {
  assert.equal(buildAuthorization({ scheme: 'basic' }, { username: 'Aladdin', password: 'open sesame' }, 'DESCRIBE', 'rtsp://x/'), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
});

test('Digest MD5 with qop=auth matches RFC 2617 §3.5', () => {
  const challenge = chooseChallenge(
    parseChallenges('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'),
  )!;
  const value = buildAuthorization(challenge, { username: 'Mufasa', password: 'Circle Of Life' }, 'GET', '/dir/index.html', { nc: 0 }, () => '0a4f113b');
  const p = params(value);
  assert.equal(p.get('response'), '6629fae49393a05397450978507c4ef1');
  assert.equal(p.get('nc'), '00000001');
  assert.equal(p.get('qop'), 'auth');
  assert.equal(p.get('opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
  assert.equal(p.has('algorithm'), false);
});

test('Digest MD5 and SHA-256 match RFC 7616 §3.9.1', () => {
  const base = 'realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo"';
  const cnonce = (): string => 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  const creds = { username: 'Mufasa', password: 'Circle of Life' };
  const md5 = chooseChallenge(parseChallenges(`Digest ${base}, algorithm=MD5`))!;
  assert.equal(params(buildAuthorization(md5, creds, 'GET', '/dir/index.html', { nc: 0 }, cnonce)).get('response'), '8ca523f5e9506fed4657c9700eebdbec');
  const sha = chooseChallenge(parseChallenges(`Digest ${base}, algorithm=SHA-256`))!;
  const value = buildAuthorization(sha, creds, 'GET', '/dir/index.html', { nc: 0 }, cnonce);
  assert.equal(params(value).get('response'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  assert.equal(params(value).get('algorithm'), 'SHA-256');
});

test('Digest without qop (RFC 2069, what most cameras use); the nonce count goes up per request', () => {
  const challenge: ChosenChallenge = { scheme: 'digest', realm: 'IP Camera', nonce: 'abc', algorithm: 'MD5', algorithmNamed: false, stale: false };
  const value = buildAuthorization(challenge, { username: 'admin', password: '12345' }, 'DESCRIBE', 'rtsp://10.0.0.2/live');
  const p = params(value);
  assert.equal(p.get('uri'), 'rtsp://10.0.0.2/live');
  assert.equal(p.has('nc'), false);
  // HA1 = MD5(admin:IP Camera:12345), HA2 = MD5(DESCRIBE:rtsp://10.0.0.2/live), response = MD5(HA1:abc:HA2)
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  assert.equal(p.get('response'), md5(`${md5('admin:IP Camera:12345')}:abc:${md5('DESCRIBE:rtsp://10.0.0.2/live')}`));
  const state = { nc: 0 };
  const withQop: ChosenChallenge = { ...challenge, qop: 'auth' };
  buildAuthorization(withQop, { username: 'a', password: 'b' }, 'SETUP', 'rtsp://x', state);
  const second = params(buildAuthorization(withQop, { username: 'a', password: 'b' }, 'PLAY', 'rtsp://x', state));
  assert.equal(second.get('nc'), '00000002');
});

test('usernames with quotes are escaped', () => {
  const challenge: ChosenChallenge = { scheme: 'digest', realm: 'r', nonce: 'n', algorithm: 'MD5', algorithmNamed: true, stale: false };
  assert.match(buildAuthorization(challenge, { username: 'a"b', password: 'p' }, 'DESCRIBE', 'rtsp://x'), /username="a\\"b"/);
});

test('property: the challenge parser only throws ParseError and never hangs', () => {
  const valid = 'Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth", Basic realm="x"';
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.tuple(fc.nat(valid.length), fc.string({ maxLength: 4 })).map(([at, s]) => valid.slice(0, at) + s + valid.slice(at + 1)),
      ),
      (text) => {
        try {
          chooseChallenge(parseChallenges(text));
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('server side: the answers buildAuthorization makes (Digest with and without qop, Basic) are proven; a wrong password is UNAUTHORIZED', () => {
  const credentials = (action: string, username: string): { password: string; query: Record<string, string> } | undefined =>
    action === 'publish' ? { password: 'the-key', query: { key: 'the-key' } } : username === 'tok' ? { password: 'tok', query: { token: 'tok' } } : undefined;
  const auth = new RtspServerAuth(credentials);
  const [digestHeader, basicHeader] = auth.challenge();
  assert.equal(basicHeader![1], `Basic realm="${RTSP_REALM}"`);
  const chosen = chooseChallenge(parseChallenges(digestHeader![1]))!;
  assert.equal(chosen.scheme, 'digest');
  const uri = 'rtsp://127.0.0.1/live/cam';
  const digest = buildAuthorization(chosen, { username: 'anyone', password: 'the-key' }, 'ANNOUNCE', uri);
  assert.deepEqual(auth.verify('publish', 'ANNOUNCE', digest), { query: { key: 'the-key' }, user: 'anyone' });
  // The method is part of the answer: a replay under another method fails.
  assert.throws(
    () => auth.verify('publish', 'RECORD', digest),
    (err: Error) => (err as { code?: string }).code === 'UNAUTHORIZED',
  );
  const qop = buildAuthorization({ ...(chosen as Extract<ChosenChallenge, { scheme: 'digest' }>), qop: 'auth' }, { username: 'u', password: 'the-key' }, 'SETUP', uri);
  assert.ok(auth.verify('publish', 'SETUP', qop));
  const basic = buildAuthorization({ scheme: 'basic' }, { username: 'tok', password: 'tok' }, 'DESCRIBE', uri);
  assert.deepEqual(auth.verify('play', 'DESCRIBE', basic), { query: { token: 'tok' }, user: 'tok' });
  // Play under auth.play: open has no RTSP credential: the header is ignored.
  assert.equal(auth.verify('play', 'DESCRIBE', buildAuthorization({ scheme: 'basic' }, { username: 'x', password: 'y' }, 'DESCRIBE', uri)), undefined);
  const wrong = buildAuthorization(chosen, { username: 'u', password: 'not-the-key' }, 'ANNOUNCE', uri);
  assert.throws(
    () => auth.verify('publish', 'ANNOUNCE', wrong),
    (err: Error) => (err as { code?: string }).code === 'UNAUTHORIZED',
  );
  // Another connection's nonce is not accepted.
  assert.throws(
    () => new RtspServerAuth(credentials).verify('publish', 'ANNOUNCE', digest),
    (err: Error) => (err as { code?: string }).code === 'UNAUTHORIZED',
  );
  assert.equal(auth.failures, 2);
});

test('fuzz: parseAuthorization returns an answer, undefined or a ParseError', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ maxLength: 200 }).map((s) => `Digest ${s}`),
        fc.string({ maxLength: 100 }).map((s) => `Basic ${s}`),
      ),
      (value) => {
        try {
          const out = parseAuthorization(value, 'DESCRIBE');
          if (out) assert.ok(out.scheme === 'basic' || out.scheme === 'digest');
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      },
    ),
  );
});
