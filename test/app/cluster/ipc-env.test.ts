import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { IpcPeer, type IpcChannel } from '../../../src/app/cluster/ipc';
import { clusterEnvOf, slotOf, workerConfig } from '../../../src/app/cluster/env';
import { loadConfig } from '../../../src/config/load';
import { DEFAULTS_FILE } from '../../helpers/gateway';

/** Two ends of an in-memory channel (what process.send and worker.send are between processes). */
function pair(): [IpcChannel, IpcChannel] {
  const a = new EventEmitter();
  const b = new EventEmitter();
  const end = (self: EventEmitter, other: EventEmitter, open: () => boolean): IpcChannel => ({
    send: (m) => open() && (setImmediate(() => other.emit('message', structuredClone(m))), true),
    on: (e, l) => self.on(e, l),
    off: (e, l) => self.off(e, l),
  });
  let open = true;
  return [
    end(a, b, () => open),
    Object.assign(
      end(b, a, () => open),
      { cut: () => (open = false) },
    ),
  ];
}

test('IPC: requests are answered by id, a handler error comes back with its code, no answer times out, close rejects what waits', async () => {
  const [one, two] = pair();
  const client = new IpcPeer(one, 100);
  const server = new IpcPeer(two);
  server.handle('add', (body) => (body as number[]).reduce((a, b) => a + b, 0));
  server.handle('slow', () => new Promise((resolve) => setTimeout(resolve, 300)));
  server.handle('fail', () => {
    throw Object.assign(new Error('nope'), {});
  });
  const events: unknown[] = [];
  server.onEvent('ping', (body) => events.push(body));
  const [x, y] = await Promise.all([client.request('add', [1, 2]), client.request('add', [3, 4])]);
  assert.deepEqual([x, y], [3, 7]);
  await assert.rejects(client.request('fail'), { code: 'INTERNAL', message: 'nope' });
  await assert.rejects(client.request('missing'), { code: 'BAD_REQUEST' });
  await assert.rejects(client.request('slow'), { code: 'UNAVAILABLE' });
  client.emit('ping', { n: 1 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(events, [{ n: 1 }]);
  const waiting = client.request('slow', null, 1000);
  client.close();
  await assert.rejects(waiting, { code: 'UNAVAILABLE' });
  await assert.rejects(client.request('add', [1]), { code: 'UNAVAILABLE' });
  server.close();
  await new Promise((resolve) => setTimeout(resolve, 350));
});

test('worker env and config: SIP in slot 1 only, disjoint even RTP slices, paths spread over the slots', () => {
  assert.equal(clusterEnvOf({}), undefined);
  const env = clusterEnvOf({ CLUSTER_SLOT: '2', CLUSTER_WORKERS: '3', CLUSTER_KEY: 'k', CLUSTER_FIRST: '0' })!;
  assert.deepEqual(env, { slot: 2, workers: 3, key: 'k', first: false });
  const config = loadConfig({ defaultsFile: DEFAULTS_FILE, env: { GW_RTP_PORT_MIN: '30000', GW_RTP_PORT_MAX: '30999' } });
  const slices = [1, 2, 3].map((slot) => workerConfig(config, { ...env, slot }));
  assert.deepEqual(
    slices.map((c) => [c.rtp.portMin, c.rtp.portMax, c.sip.enabled]),
    [
      [30000, 30331, true],
      [30332, 30663, false],
      [30664, 30995, false],
    ],
  );
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[slotOf(`live/cam${i}`, 3) - 1]!++;
  assert.ok(
    counts.every((n) => n > 800),
    `spread ${counts.join('/')}`,
  );
});
