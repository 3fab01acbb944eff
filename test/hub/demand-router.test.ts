import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, DEFAULT_REGISTRY_OPTIONS } from '../../src/hub/registry';
import { silentLogger } from '../../src/core/log';
import type { OnDemandFactory } from '../../src/hub/demand';
import { RecordingSink, sleep } from '../helpers/hub-fixtures';
import { startSyntheticSource } from '../helpers/synthetic-source';

function makeRegistry(): Registry {
  return new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 20, startTimeoutMs: 300, waitForPublisherMs: 300, closeAfterMs: 50, reconnectGraceMs: 0 }, silentLogger());
}

test('the on-demand router is asked for every start, with the local factory or without one, and its source is stopped after the last reader', async () => {
  const registry = makeRegistry();
  const asked: [string, boolean][] = [];
  const local: OnDemandFactory = async (path) => startSyntheticSource(registry, path);
  registry.registerOnDemand('proxy/*', local);
  const sources: ReturnType<typeof startSyntheticSource>[] = [];
  registry.routeOnDemand(async (path, factory) => {
    asked.push([path, factory === local]);
    if (path === 'live/nobody') return undefined;
    const source = factory ? ((await factory(path)) as ReturnType<typeof startSyntheticSource>) : startSyntheticSource(registry, path);
    sources.push(source);
    return source;
  });
  const sink = new RecordingSink();
  const sub = await registry.subscribe('proxy/cam', sink);
  const remote = await registry.subscribe('live/elsewhere', new RecordingSink());
  await assert.rejects(registry.subscribe('live/nobody', new RecordingSink()), { code: 'STREAM_NOT_FOUND' });
  assert.deepEqual(asked, [
    ['proxy/cam', true],
    ['live/elsewhere', false],
    ['live/nobody', false],
  ]);
  sub.close();
  remote.close();
  await sleep(120);
  assert.deepEqual(
    sources.map((s) => s.stopped),
    [true, true],
  );
  await registry.close();
});

test('retryOnDemand asks the router again for readers that were waiting for a publisher', async () => {
  const registry = makeRegistry();
  let owner = false;
  let asks = 0;
  registry.routeOnDemand(async (path) => {
    asks++;
    return owner ? startSyntheticSource(registry, path) : undefined;
  });
  const waiting = registry.subscribe('live/late', new RecordingSink(), { waitMs: 1000 });
  await sleep(30);
  assert.equal(asks, 1);
  owner = true; // the publisher appeared on another worker
  registry.retryOnDemand('live/late');
  const sub = await waiting;
  assert.equal(asks, 2);
  sub.close();
  await registry.close();
});

test('readers waiting on a declined path ask again when a factory for it is registered (a proxy made meanwhile)', async () => {
  const registry = makeRegistry();
  let settled = false;
  const waiting = registry.subscribe('proxy/new', new RecordingSink(), { waitMs: 1000 }).finally(() => (settled = true));
  await sleep(30);
  assert.equal(settled, false, 'no factory yet: the reader waits for a publisher');
  registry.registerOnDemand('proxy/*', async (path) => startSyntheticSource(registry, path));
  const sub = await waiting;
  assert.ok(registry.get('proxy/new')?.publisher, 'the new factory serves the waiting reader');
  sub.close();
  await registry.close();
});

test('a start the router declines after a factory for the path was registered meanwhile asks again (the proxy reloaded while the router was asked)', async () => {
  const registry = makeRegistry();
  let release: () => void = () => undefined;
  const asked: boolean[] = [];
  registry.routeOnDemand(async (path, local) => {
    asked.push(local !== undefined);
    if (!local) {
      // Answers only after the factory below is registered: its answer predates it.
      await new Promise<void>((resolve) => (release = resolve));
      return undefined;
    }
    return local(path);
  });
  let settled = false;
  const waiting = registry.subscribe('proxy/late', new RecordingSink(), { waitMs: 1000 }).finally(() => (settled = true));
  await sleep(10);
  registry.registerOnDemand('proxy/*', async (path) => startSyntheticSource(registry, path));
  release();
  const sub = await waiting;
  assert.equal(settled, true);
  assert.deepEqual(asked, [false, true], 'asked without the factory, then again with it');
  assert.ok(registry.get('proxy/late')?.publisher, 'the factory serves the reader that was waiting');
  sub.close();
  await registry.close();
});
