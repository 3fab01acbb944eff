import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SsrcAllocator, ssrcNumber } from '../../../sip/gb28181/ssrc';

test('SSRC = 0|1 + domain digits 4-8 + 4-digit sequence, never two alike in use', () => {
  const ssrcs = new SsrcAllocator('3402000000');
  assert.equal(ssrcs.allocate(), '0200000000');
  assert.equal(ssrcs.allocate(), '0200000001');
  assert.equal(ssrcs.allocate('playback'), '1200000002');
  ssrcs.release('0200000000');
  const seen = new Set<string>();
  for (let i = 0; i < 9999; i++) seen.add(ssrcs.allocate());
  assert.equal(seen.size, 9999);
  assert.ok(!seen.has('0200000001'), 'an SSRC in use is never handed out');
  assert.ok(seen.has('0200000000'), 'a released SSRC is reused');
  assert.throws(() => ssrcs.allocate(), /all 10000 SSRCs/);
});

test('a device-chosen SSRC is tracked; values must fit 32 bits', () => {
  const ssrcs = new SsrcAllocator('3402000000');
  assert.equal(ssrcs.claim('0100000001'), true);
  assert.equal(ssrcs.claim('0100000001'), false);
  assert.equal(ssrcNumber('0200000001'), 200000001);
  assert.equal(ssrcNumber('4294967295'), 0xffffffff);
  assert.equal(ssrcNumber('4294967296'), undefined);
  assert.throws(() => new SsrcAllocator('34020'), /10 digits/);
});
