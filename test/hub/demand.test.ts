import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, DEFAULT_REGISTRY_OPTIONS } from '../../src/hub/registry';
import { silentLogger } from '../../src/core/log';
import { GatewayError } from '../../src/core/errors';
import { RecordingSink, sleep } from '../helpers/hub-fixtures';
import { startSyntheticSource } from '../helpers/synthetic-source';

function makeRegistry(): Registry {
  return new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 20, startTimeoutMs: 300, closeAfterMs: 80, reconnectGraceMs: 0 }, silentLogger());
}

test('the first viewer starts the source once, the last one leaving stops it after closeAfter', async () => {
  const registry = makeRegistry();
  const started: ReturnType<typeof startSyntheticSource>[] = [];
  registry.registerOnDemand('test/*', async (path) => {
    await sleep(20);
    const source = startSyntheticSource(registry, path);
    started.push(source);
    return source;
  });
  const a = new RecordingSink();
  const b = new RecordingSink();
  const [subA, subB] = await Promise.all([registry.subscribe('test/cam1', a), registry.subscribe('test/cam1', b)]);
  assert.equal(started.length, 1, 'two viewers arriving together cause one start');
  assert.equal(a.frames[0]!.keyframe, true);
  subA.close();
  await sleep(120);
  assert.equal(started[0]!.stopped, false, 'one viewer is still there');
  subB.close();
  await sleep(40);
  const c = new RecordingSink();
  const subC = await registry.subscribe('test/cam1', c); // comes back before closeAfter: cancels the stop
  await sleep(100);
  assert.equal(started[0]!.stopped, false);
  assert.equal(started.length, 1);
  subC.close();
  await sleep(150);
  assert.equal(started[0]!.stopped, true, 'stopped closeAfter after the last viewer left');
  assert.equal(registry.list().length, 0);
  await registry.close();
});

test('a failing source rejects every waiter with SOURCE_START_FAILED and its reason', async () => {
  const registry = makeRegistry();
  registry.registerOnDemand('test/*', async () => {
    await sleep(10);
    throw new Error('device answered 488 Not Acceptable Here');
  });
  const results = await Promise.allSettled([registry.subscribe('test/bad', new RecordingSink()), registry.subscribe('test/bad', new RecordingSink())]);
  for (const result of results) {
    assert.equal(result.status, 'rejected');
    const err = (result as PromiseRejectedResult).reason as GatewayError;
    assert.equal(err.code, 'SOURCE_START_FAILED');
    assert.match(err.message, /488/);
  }
  assert.equal(registry.readerCount('test/bad'), 0);
  await registry.close();
});

test('a slow source times out with SOURCE_START_TIMEOUT and is stopped when it finally starts', async () => {
  const registry = makeRegistry();
  let late: ReturnType<typeof startSyntheticSource> | undefined;
  registry.registerOnDemand('slow/*', async (path) => {
    await sleep(450);
    late = startSyntheticSource(registry, path);
    return late;
  });
  await assert.rejects(registry.subscribe('slow/cam', new RecordingSink()), (err: unknown) => err instanceof GatewayError && err.code === 'SOURCE_START_TIMEOUT');
  await sleep(300);
  assert.ok(late?.stopped, 'the source that started after everyone left is stopped');
  await registry.close();
});

test('a start that fails after its readers left leaves no timer that could stop a later start', async () => {
  const registry = makeRegistry();
  let attempt = 0;
  const sources: ReturnType<typeof startSyntheticSource>[] = [];
  registry.registerOnDemand('flaky/*', async (path) => {
    attempt++;
    if (attempt === 1) {
      await sleep(50); // the viewer gave up at 20 ms: closeAfter (80 ms) is armed and pending
      throw new Error('first INVITE refused');
    }
    const source = startSyntheticSource(registry, path);
    sources.push(source);
    return source;
  });
  const abort = new AbortController();
  const first = registry.subscribe('flaky/cam', new RecordingSink(), { signal: abort.signal });
  await sleep(20);
  abort.abort();
  await assert.rejects(first);
  await sleep(40); // 60 ms: the first start has failed, its close timer would fire at 100 ms
  const sub = await registry.subscribe('flaky/cam', new RecordingSink());
  await sleep(150);
  assert.equal(sources[0]!.stopped, false, 'the second start runs while its viewer watches');
  sub.close();
  await registry.close();
});
