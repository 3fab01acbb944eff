import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../src/core/log';
import { InProcessDirectory, ownersOf } from '../../../src/app/cluster/directory';
import { ClusterJobs } from '../../../src/app/cluster/jobs';

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

/** Two workers' job placements over one directory, each told of its changes as the primary's broadcast would. */
function twoWorkers() {
  const workers: ClusterJobs[] = [];
  const dir = new InProcessDirectory(() => queueMicrotask(() => workers.forEach((w) => w.update(ownersOf(dir.snapshot()), dir.workerAddresses().length))));
  for (const slot of [1, 2]) workers.push(new ClusterJobs({ directory: dir, slot, workers: 2, waitMs: 60_000, log: silentLogger() }));
  const running = new Map<string, number[]>();
  const job = (slot: number, path: string) =>
    workers[slot - 1]!.run(path, () => {
      running.set(path, [...(running.get(path) ?? []), slot]);
      return () =>
        running.set(
          path,
          (running.get(path) ?? []).filter((s) => s !== slot),
        );
    });
  const up = (slot: number) => dir.addWorker({ slot, address: `http://127.0.0.1:100${slot}`, serves: [] });
  return { dir, workers, running, job, up, close: () => workers.forEach((w) => w.close()) };
}

test('jobs: placed once every worker is up, one worker each by load, taken up by the live worker when theirs dies, moved to a publisher elsewhere', async () => {
  const { dir, workers, running, job, up, close } = twoWorkers();
  try {
    // Every worker knows every job (config, SQLite).
    const ends = ['proxy/a', 'proxy/b'].map((path) => [job(1, path), job(2, path)]);
    up(1);
    workers.forEach((w) => w.update(ownersOf(dir.snapshot()), 1));
    await settle();
    assert.equal(running.size, 0, 'nothing placed while a worker is still starting');
    up(2);
    workers.forEach((w) => w.update(ownersOf(dir.snapshot()), 2));
    await settle();
    const where = (path: string) => running.get(path) ?? [];
    assert.equal(where('proxy/a').length, 1, 'runs on one worker');
    assert.equal(where('proxy/b').length, 1);
    assert.notEqual(where('proxy/a')[0], where('proxy/b')[0], 'the two jobs on different workers');

    // The worker running proxy/a dies: the other takes it up.
    const dead = where('proxy/a')[0]!;
    const live = 3 - dead;
    workers[dead - 1]!.close();
    running.set('proxy/a', []);
    dir.dropWorker(dead);
    await settle();
    assert.deepEqual(where('proxy/a'), [live]);
    assert.deepEqual(where('proxy/b'), [live]);

    // A stream of the job's path published on another worker wins: the job moves there.
    const again = new ClusterJobs({ directory: dir, slot: dead, workers: 2, waitMs: 60_000, log: silentLogger() });
    workers[dead - 1] = again;
    const endA = again.run('proxy/a', () => {
      running.set('proxy/a', [...where('proxy/a'), dead]);
      return () =>
        running.set(
          'proxy/a',
          where('proxy/a').filter((s) => s !== dead),
        );
    });
    up(dead);
    await dir.register('proxy/a', dead);
    await settle();
    assert.deepEqual(where('proxy/a'), [dead]);

    // A removed job releases its hold.
    endA();
    ends[0]![live - 1]!();
    await dir.unregister('proxy/a', dead);
    await settle();
    assert.ok(!dir.snapshot().some((e) => e.path === 'proxy/a'), JSON.stringify(dir.snapshot()));
  } finally {
    close();
  }
});
