import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { maskObject, maskSecrets } from '../../src/core/redact';

test('URL passwords and credential query values are masked', () => {
  assert.equal(maskSecrets('rtsp://admin:p@ss:w@10.0.0.2:554/x?ch=1'), 'rtsp://admin:***@10.0.0.2:554/x?ch=1');
  assert.equal(maskSecrets('pulling rtsp://u:secret@cam/a and rtsp://v:other@cam/b'), 'pulling rtsp://u:***@cam/a and rtsp://v:***@cam/b');
  assert.equal(maskSecrets('rtmp://h/live/cam1?key=abc&x=1'), 'rtmp://h/live/cam1?key=***&x=1');
  assert.equal(maskSecrets('/live/cam1.flv?token=123..AbC&hevc=legacy'), '/live/cam1.flv?token=***&hevc=legacy');
  assert.equal(maskSecrets('rtsp://cam/x?user=admin&password=hunter2'), 'rtsp://cam/x?user=admin&password=***');
  assert.equal(maskSecrets('nothing to hide'), 'nothing to hide');
});

test('log objects: secret-named keys and secrets inside strings are masked, deeply', () => {
  const masked = maskObject({ url: 'rtsp://a:b@c/d', nested: { password: 'x', list: ['rtmp://h/a/b?key=k'] }, port: 5 }) as Record<string, unknown>;
  assert.deepEqual(masked, { url: 'rtsp://a:***@c/d', nested: { password: '***', list: ['rtmp://h/a/b?key=***'] }, port: 5 });
  const err = maskObject(new Error('connect rtsp://a:pw@h failed')) as Error;
  assert.equal(err.message, 'connect rtsp://a:***@h failed');
});

test('property: a password in a URL never survives masking', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9]{1,12}$/), fc.stringMatching(/^[A-Za-z0-9!$%*]{6,20}$/), fc.string({ maxLength: 30 }), (user, password, tail) => {
      fc.pre(!user.includes(password));
      const text = `x rtsp://${user}:${password}@10.1.2.3/s ${tail.replaceAll(password, '')}`;
      assert.ok(!maskSecrets(text).includes(password));
    }),
  );
});

test('a PEM private key in a log line is masked whole, a certificate is left alone', () => {
  const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7=\n-----END PRIVATE KEY-----';
  const rsa = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----';
  assert.equal(maskSecrets(`loaded ${key} ok`), 'loaded *** ok');
  assert.equal(maskSecrets(`${rsa}\n${key}`), '***\n***');
  assert.equal(maskSecrets('cut -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI'), 'cut ***');
  const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  assert.equal(maskSecrets(cert), cert);
  assert.deepEqual(maskObject({ err: { message: `bad ${key}` } }), { err: { message: 'bad ***' } });
});

test('property: no base64 line of a PEM private key survives masking, whatever surrounds it', () => {
  const base64Line = fc.stringMatching(/^[A-Za-z0-9+/]{40,64}$/);
  fc.assert(
    fc.property(
      fc.string({ maxLength: 40 }),
      fc.array(base64Line, { minLength: 1, maxLength: 5 }),
      fc.constantFrom('', 'RSA ', 'EC ', 'ENCRYPTED '),
      fc.string({ maxLength: 40 }),
      (before, lines, kind, after) => {
        const pem = `-----BEGIN ${kind}PRIVATE KEY-----\n${lines.join('\n')}\n-----END ${kind}PRIVATE KEY-----`;
        const masked = maskSecrets(`${before}${pem}${after}`);
        for (const line of lines) assert.ok(!masked.includes(line), `a key line survived in ${masked}`);
        assert.ok(!masked.includes('PRIVATE KEY-----'));
      },
    ),
  );
});
