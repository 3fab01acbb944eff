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

test('hold: a job goes to the least-loaded worker and stays there, a stream of its path wins, holds count as load and die with their worker', async () => {
  const dir = new InProcessDirectory();
  dir.addWorker({ slot: 1, address: 'http://127.0.0.1:1001', serves: [] });
  dir.addWorker({ slot: 2, address: 'http://127.0.0.1:1002', serves: [] });
  await dir.register('live/x', 1);
  assert.equal(await dir.hold('proxy/a', 1), 2, 'slot 1 owns a stream: the job goes to 2');
  assert.equal(await dir.hold('proxy/a', 2), 2, 'asked again from the other worker: the same holder');
  assert.equal(await dir.hold('proxy/b', 2), 2, 'a tie of 1 and 1: the asker');
  assert.deepEqual([dir.owned(1), dir.owned(2)], [1, 2]);
  assert.equal(await dir.hold('proxy/c', 2), 1);
  assert.deepEqual(
    dir.snapshot().map((e) => [e.path, e.owner, e.state]),
    [
      ['live/x', 1, 'live'],
      ['proxy/a', 2, 'held'],
      ['proxy/b', 2, 'held'],
      ['proxy/c', 1, 'held'],
    ],
  );
  // The proxy's stream is published where it runs: one entry, counted once.
  await dir.register('proxy/a', 2);
  assert.equal(dir.owned(2), 2);
  assert.deepEqual(
    dir
      .snapshot()
      .filter((e) => e.path === 'proxy/a')
      .map((e) => e.state),
    ['live'],
  );
  // A publisher of the path on another worker wins over the hold.
  await dir.register('proxy/b', 1);
  assert.equal(await dir.hold('proxy/b', 2), 1);
  await dir.unregister('proxy/b', 1);
  assert.equal(await dir.hold('proxy/b', 2), 1, 'and keeps it after its stream ended');
  // A source placed for a held path starts where the job runs (a keepSource push).
  assert.equal((await dir.place({ path: 'proxy/c', slot: 2, localFactory: true }))?.owner, 1);
  // Release by the holder only.
  await dir.release('proxy/c', 2);
  assert.equal(await dir.hold('proxy/c', 2), 1);
  await dir.unregister('proxy/c', 1);
  await dir.release('proxy/c', 1);
  assert.ok(!dir.snapshot().some((e) => e.path === 'proxy/c'));
  // A dead worker holds nothing: its jobs are placed on a live one when asked again.
  dir.dropWorker(1);
  assert.ok(!dir.snapshot().some((e) => e.owner === 1));
  assert.equal(await dir.hold('proxy/b', 2), 2);
});
