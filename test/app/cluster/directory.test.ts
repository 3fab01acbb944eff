import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessDirectory } from '../../../src/app/cluster/directory';

function directory(now = () => 0) {
  let changes = 0;
  const dir = new InProcessDirectory(() => changes++, now);
  dir.addWorker({ slot: 1, address: 'http://127.0.0.1:1001', serves: [/^rtp\//] });
  dir.addWorker({ slot: 2, address: 'http://127.0.0.1:1002', serves: [] });
  return { dir, changes: () => changes };
}

test('place: a path one worker serves goes there, others to the asker unless another owns fewer, nothing when no one serves it', async () => {
  const { dir } = directory();
  assert.equal((await dir.place({ path: 'rtp/a_b', slot: 2, localFactory: false }))?.owner, 1);
  assert.equal(await dir.place({ path: 'live/x', slot: 2, localFactory: false }), undefined);
  // slot 1 owns rtp/a_b: slot 1 asking for a proxy path gets it placed on slot 2.
  const placed = await dir.place({ path: 'proxy/p', slot: 1, localFactory: true });
  assert.deepEqual([placed?.owner, placed?.address, placed?.state], [2, 'http://127.0.0.1:1002', 'claimed']);
  assert.equal((await dir.place({ path: 'proxy/p', slot: 1, localFactory: true }))?.owner, 2, 'placed once');
  assert.equal((await dir.place({ path: 'proxy/q', slot: 2, localFactory: true }))?.owner, 2, 'the asker when loads are equal');
});

test('register, unregister by the owner only, a dead worker owns nothing, a claim that never published expires', async () => {
  let now = 0;
  const { dir, changes } = directory(() => now);
  await dir.register('live/cam', 2);
  assert.equal((await dir.lookup('live/cam'))?.state, 'live');
  await dir.register('live/cam', 1); // the publisher reconnected to slot 1
  await dir.unregister('live/cam', 2); // slot 2's stream ended after its grace
  assert.equal((await dir.lookup('live/cam'))?.owner, 1);
  await dir.place({ path: 'proxy/p', slot: 2, localFactory: true });
  assert.deepEqual(dir.dropWorker(1), ['live/cam']);
  assert.equal(await dir.lookup('live/cam'), undefined);
  assert.equal((await dir.lookup('proxy/p'))?.owner, 2, 'the other worker keeps its own');
  await dir.place({ path: 'proxy/q', slot: 2, localFactory: true });
  now = 31_000;
  assert.equal(await dir.lookup('proxy/q'), undefined);
  assert.ok(changes() >= 5);
});

test('place by load: the fewest owned streams; on a tie not the worker with SIP signalling, then the asker', async () => {
  const dir = new InProcessDirectory();
  dir.addWorker({ slot: 1, address: 'http://127.0.0.1:1001', serves: [], signalling: true });
  dir.addWorker({ slot: 2, address: 'http://127.0.0.1:1002', serves: [] });
  dir.addWorker({ slot: 3, address: 'http://127.0.0.1:1003', serves: [] });
  assert.equal((await dir.place({ path: 'rtp/a', slot: 1, localFactory: true }))?.owner, 2, 'tie of three: not SIP, the lowest other');
  assert.equal((await dir.place({ path: 'rtp/b', slot: 3, localFactory: true }))?.owner, 3, 'tie of 1 and 3: the asker, not SIP');
  assert.equal((await dir.place({ path: 'rtp/c', slot: 2, localFactory: true }))?.owner, 1, 'SIP worker when it owns the fewest');
  await dir.register('live/x', 1);
  assert.equal((await dir.place({ path: 'rtp/d', slot: 1, localFactory: true }))?.owner, 2);
});
