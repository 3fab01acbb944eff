import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateMeter } from '../../src/hub/rate-meter';

test('the rate covers the last full window and reading it changes nothing', () => {
  const meter = new RateMeter(1000);
  for (let t = 0; t < 2000; t += 10) meter.add(1250, t); // 1250 B per 10 ms = 1000 kbit/s
  const first = meter.kbps(2000);
  assert.equal(first, 1000);
  for (let i = 0; i < 50; i++) assert.equal(meter.kbps(2000), first, 'reading again gives the same answer');
  assert.equal(meter.kbps(2100), 1000);
});

test('a stream that stops falls to zero after one window; bytes added long ago do not linger', () => {
  const meter = new RateMeter(1000);
  for (let t = 0; t < 1000; t += 10) meter.add(1250, t);
  assert.equal(meter.kbps(1000), 1000);
  assert.equal(meter.kbps(2250), 0);
  meter.add(125, 10_000);
  assert.equal(meter.kbps(10_250), 1);
});

test('sample() turns a byte counter into the same rate whatever the read cadence', () => {
  const often = new RateMeter(1000);
  const rarely = new RateMeter(1000);
  let total = 0;
  let last = 0;
  for (let t = 0; t <= 3000; t += 10) {
    total += 1250;
    last = often.sample(total, t);
    if (t % 500 === 0) rarely.sample(total, t);
  }
  assert.equal(last, 1000);
  assert.ok(Math.abs(rarely.sample(total, 3000) - 1000) <= 125, `rarely read: ${rarely.kbps(3000)}`);
});
