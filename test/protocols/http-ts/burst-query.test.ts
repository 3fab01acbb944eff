import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GatewayError } from '../../../src/core/errors';
import { burstMsOf } from '../../../src/protocols/http-ts/route';

test('?burst=: absent is the configured burst, a number is capped by it, 0 is the live edge', () => {
  assert.equal(burstMsOf({}, 5), 5000);
  assert.equal(burstMsOf({ burst: '2' }, 5), 2000);
  assert.equal(burstMsOf({ burst: '2.5' }, 5), 2500);
  assert.equal(burstMsOf({ burst: '60' }, 5), 5000);
  assert.equal(burstMsOf({ burst: '0' }, 5), 0);
  assert.equal(burstMsOf({ burst: ['1', '4'] }, 5), 1000, 'the first of repeated keys');
  assert.equal(burstMsOf({ burst: '3' }, 0), 0, 'no burst configured: none');
  for (const bad of ['', '-1', 'abc', '1e3', 'Infinity', 'NaN', '0x10', '1.2345', ' 1']) {
    assert.throws(
      () => burstMsOf({ burst: bad }, 5),
      (err: unknown) => err instanceof GatewayError && err.code === 'BAD_REQUEST',
      bad,
    );
  }
});

test('property: any ?burst= value gives a burst within 0..max or a BAD_REQUEST, never anything else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.double().map(String), fc.nat().map(String)), fc.integer({ min: 0, max: 10 }), (value, max) => {
      try {
        const ms = burstMsOf({ burst: value }, max);
        assert.ok(Number.isFinite(ms) && ms >= 0 && ms <= max * 1000, `${value} -> ${ms}`);
      } catch (err) {
        assert.ok(err instanceof GatewayError && err.code === 'BAD_REQUEST', String(err));
      }
    }),
  );
});
