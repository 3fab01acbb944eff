import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AdmissionRequest } from '../../src/core/admission';
import { queryRecord } from '../../src/core/admission';
import { GatewayError } from '../../src/core/errors';
import { silentLogger } from '../../src/core/log';
import { Admission } from '../../src/hub/admission';

const REQUEST: AdmissionRequest = { action: 'play', path: 'live/a', protocol: 'http-flv', remote: '127.0.0.1:1', query: { token: 't' } };

test('no check allows; checks run in order and the first refusal wins', async () => {
  const admission = new Admission(silentLogger());
  assert.deepEqual(await admission.check(REQUEST), { allow: true });
  const seen: string[] = [];
  admission.add('one', () => (seen.push('one'), { allow: true }));
  admission.add('two', () => (seen.push('two'), { allow: false, status: 'forbidden', reason: 'not yours' }));
  admission.add('three', () => (seen.push('three'), { allow: false, status: 'unauthorized', reason: 'never asked' }));
  assert.deepEqual(await admission.check(REQUEST), { allow: false, status: 'forbidden', reason: 'not yours' });
  assert.deepEqual(seen, ['one', 'two']);
});

test('an asynchronous check is awaited; the user one check finds is passed on and returned', async () => {
  const admission = new Admission(silentLogger());
  admission.add('token', async (r) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return r.query.token === 't' ? { allow: true, user: 'alice' } : { allow: false, status: 'unauthorized', reason: 'no token' };
  });
  let userSeen: string | undefined;
  admission.add('acl', (r) => ((userSeen = r.user), r.user === 'alice' ? { allow: true } : { allow: false, status: 'forbidden', reason: 'who?' }));
  assert.deepEqual(await admission.check(REQUEST), { allow: true, user: 'alice' });
  assert.equal(userSeen, 'alice');
  assert.deepEqual(await admission.check({ ...REQUEST, query: {} }), { allow: false, status: 'unauthorized', reason: 'no token' });
});

test('a check that throws or rejects refuses with unavailable, never lets the caller in', async () => {
  const admission = new Admission(silentLogger());
  const remove = admission.add('broken', () => {
    throw new Error('webhook down');
  });
  assert.deepEqual(await admission.check(REQUEST), { allow: false, status: 'unavailable', reason: 'admission check broken failed' });
  remove();
  admission.add('rejects', () => Promise.reject(new Error('timeout')));
  const result = await admission.check(REQUEST);
  assert.equal(result.allow, false);
  assert.equal(!result.allow && result.status, 'unavailable');
});

test('admit throws each refusal as its own GatewayError code; removing a check takes it out', async () => {
  const admission = new Admission(silentLogger());
  for (const [status, code] of [
    ['unauthorized', 'UNAUTHORIZED'],
    ['forbidden', 'FORBIDDEN'],
    ['unavailable', 'UNAVAILABLE'],
  ] as const) {
    const remove = admission.add(status, () => ({ allow: false, status, reason: `because ${status}` }));
    await assert.rejects(admission.admit(REQUEST), (err: unknown) => err instanceof GatewayError && err.code === code && err.message === `because ${status}`);
    remove();
  }
  assert.equal(admission.size, 0);
  assert.deepEqual(await admission.admit(REQUEST), {});
});

test('queryRecord keeps the first value of each key, with or without ?', () => {
  assert.deepEqual(queryRecord('?a=1&b=x%20y&a=2'), { a: '1', b: 'x y' });
  assert.deepEqual(queryRecord(''), {});
});
