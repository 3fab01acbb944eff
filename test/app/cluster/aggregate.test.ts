import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import { aggregateMetrics, mergeProxies, mergePushes } from '../../../src/app/cluster/aggregate';
import type { ProxyDto } from '../../../src/api/proxies';
import type { PushDto, PushStatusDto } from '../../../src/api/pushes';

function proxy(id: string, state: ProxyDto['status']['state']): ProxyDto {
  return {
    id,
    path: `proxy/${id}`,
    url: 'rtsp://h/x',
    transport: 'auto',
    onDemand: true,
    origin: 'api',
    createdAt: 0,
    updatedAt: 0,
    status: { state, reconnects: 0, bitrateKbps: 0, bytesIn: 0, tracks: [] },
  };
}

function push(path: string, state: PushStatusDto['state']): PushStatusDto {
  return { path, target: `rtmp://cdn/${path}`, state, reconnects: 0, bytesOut: 0, bitrateKbps: 0, framesOut: 0, framesDropped: 0, uptimeMs: 0, codecs: [], notes: [] };
}

function rule(id: string, pushes: PushStatusDto[]): PushDto {
  return { id, path: 'live/*', url: 'rtmp://cdn/{path}', keepSource: false, hevc: 'enhanced', allowSelfSigned: false, origin: 'api', createdAt: 0, updatedAt: 0, pushes };
}

test('proxies: each one shows the state of the worker that runs it, in table order', () => {
  const merged = mergeProxies([
    { slot: 1, items: [proxy('a', 'idle'), proxy('b', 'playing')] },
    { slot: 2, items: [proxy('a', 'playing'), proxy('b', 'idle')] },
  ]);
  assert.deepEqual(
    merged.map((p) => [p.id, p.status.state]),
    [
      ['a', 'playing'],
      ['b', 'playing'],
    ],
  );
});

test('pushes: a rule lists the streams pushed on every worker, one entry per stream', () => {
  const merged = mergePushes([
    { slot: 1, items: [rule('r', [push('live/a', 'pushing')])] },
    { slot: 2, items: [rule('r', [push('live/b', 'connecting'), push('live/a', 'waiting')])] },
  ]);
  assert.equal(merged.length, 1);
  assert.deepEqual(
    merged[0]!.pushes.map((p) => [p.path, p.state]),
    [
      ['live/a', 'pushing'],
      ['live/b', 'connecting'],
    ],
  );
});

test('metrics: gateway series summed over the workers, process series kept per worker', async () => {
  const parts = await Promise.all(
    [1, 2].map(async (slot) => {
      const prom = new PromRegistry();
      collectDefaultMetrics({ register: prom, prefix: 'gateway_' });
      new Gauge({ name: 'gateway_streams', help: 's', registers: [prom] }).set(slot);
      new Counter({ name: 'gateway_bytes_out_total', help: 'b', labelNames: ['protocol'], registers: [prom] }).inc({ protocol: 'http-flv' }, 100 * slot);
      return { slot, items: await prom.getMetricsAsJSON() };
    }),
  );
  const text = await aggregateMetrics(parts);
  assert.match(text, /^gateway_streams 3$/m);
  assert.match(text, /^gateway_bytes_out_total\{protocol="http-flv"\} 300$/m);
  assert.match(text, /^gateway_process_cpu_seconds_total\{worker="1"\} /m);
  assert.match(text, /^gateway_process_cpu_seconds_total\{worker="2"\} /m);
  assert.match(text, /^gateway_process_start_time_seconds\{worker="2"\} /m, 'kept per worker, not omitted');
});
