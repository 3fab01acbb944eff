import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { signHookBody, verifyHookSignature } from '../../../src/app/hooks/signature';

test('the signature is HMAC-SHA256 over "<timestamp>.<body>", as a receiver computes it with node:crypto', () => {
  const body = '{"hook":"on_publish","app":"live"}';
  const expected = `sha256=${createHmac('sha256', 'k3y').update(`1700000000000.${body}`).digest('hex')}`;
  assert.equal(signHookBody('k3y', '1700000000000', body), expected);
  assert.ok(verifyHookSignature('k3y', '1700000000000', body, expected));
});

test('verification never throws and never accepts a changed byte, key or timestamp', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), fc.string(), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), (secret, body, ts, position, flip) => {
      const timestamp = String(ts);
      const signature = signHookBody(secret, timestamp, body);
      assert.ok(verifyHookSignature(secret, timestamp, body, signature));
      const bytes = Buffer.from(signature);
      const at = position % bytes.length;
      bytes[at] = bytes[at]! ^ flip;
      assert.equal(verifyHookSignature(secret, timestamp, body, bytes.toString('latin1')), false);
      assert.equal(verifyHookSignature(`${secret}x`, timestamp, body, signature), false);
      assert.equal(verifyHookSignature(secret, `${timestamp}1`, body, signature), false);
      assert.equal(verifyHookSignature(secret, timestamp, `${body} `, signature), false);
      assert.equal(verifyHookSignature(secret, undefined, body, signature), false);
      assert.equal(verifyHookSignature(secret, timestamp, body, undefined), false);
    }),
  );
});
