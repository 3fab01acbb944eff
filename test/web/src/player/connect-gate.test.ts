import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectGate } from '../../../../web/src/player/connect-gate';

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('at most `limit` connections open at a time; a release lets the next one in, in the order asked', async () => {
  const gate = new ConnectGate(2, 10_000);
  const granted: number[] = [];
  const releases = new Map<number, () => void>();
  for (const n of [1, 2, 3, 4]) void gate.take().then((release) => (granted.push(n), releases.set(n, release)));
  await tick();
  assert.deepEqual(granted, [1, 2]);
  releases.get(2)!();
  releases.get(2)!();
  await tick();
  assert.deepEqual(granted, [1, 2, 3], 'a second release of the same turn lets no one else in');
  releases.get(1)!();
  await tick();
  assert.deepEqual(granted, [1, 2, 3, 4]);
  releases.get(3)!();
  releases.get(4)!();
});

test('a turn that never sees its first bytes is given back after holdMs', async () => {
  const gate = new ConnectGate(1, 30);
  await gate.take();
  let second = false;
  void gate.take().then((release) => ((second = true), release()));
  await tick(5);
  assert.equal(second, false);
  await tick(60);
  assert.equal(second, true);
});
