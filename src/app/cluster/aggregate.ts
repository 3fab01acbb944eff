/**
 * The gateway as one, whichever worker answers (docs/architecture.md "Every core"): /metrics
 * merged over every worker's prom-client registry, and the live state of proxies and pushes
 * taken from the worker that runs each one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AggregatorRegistry, type Registry as PromRegistry } from 'prom-client';
import type { ProxyDto } from '../../api/proxies';
import type { PushDto, PushStatusDto } from '../../api/pushes';
import type { WorkerPart } from './merge';

/** One metric of a worker's `getMetricsAsJSON()`. */
export type MetricJson = Awaited<ReturnType<PromRegistry['getMetricsAsJSON']>>[number] & { aggregator?: string };

/** Series that describe one process (CPU, memory, event loop): kept per worker, with a `worker` label. */
const PER_PROCESS = /^gateway_(?:process_|nodejs_)/;

/**
 * One exposition from every worker's `getMetricsAsJSON()`: the gateway's own series summed
 * (each worker counts only what it owns: internal pulls are left out of streams and readers),
 * the process series labelled `worker`.
 */
export async function aggregateMetrics(parts: readonly WorkerPart<MetricJson>[]): Promise<string> {
  const labelled = parts.map((part) =>
    part.items.map((metric): MetricJson => {
      if (!PER_PROCESS.test(metric.name)) return metric;
      // One series per worker: summing distinct label sets keeps each as it is ('omit'/'first' would drop or hide workers).
      return { ...metric, aggregator: 'sum', values: metric.values.map((v) => ({ ...v, labels: { ...v.labels, worker: String(part.slot) } })) };
    }),
  );
  return AggregatorRegistry.aggregate(labelled).metrics();
}

/** How far along a job is: the worker that runs it reports more than the others (idle, waiting). */
const PROXY_RANK: Record<ProxyDto['status']['state'], number> = { idle: 0, stopped: 1, retrying: 2, connecting: 3, playing: 4 };
const PUSH_RANK: Record<PushStatusDto['state'], number> = { stopped: 0, waiting: 1, retrying: 2, connecting: 3, pushing: 4 };

/** Every worker knows every proxy (one table); its state is the one of the worker that runs it. */
export function mergeProxies(parts: readonly WorkerPart<ProxyDto>[]): ProxyDto[] {
  const byId = new Map<string, ProxyDto>();
  for (const part of parts) {
    for (const proxy of part.items) {
      const seen = byId.get(proxy.id);
      if (!seen || PROXY_RANK[proxy.status.state] > PROXY_RANK[seen.status.state]) byId.set(proxy.id, proxy);
    }
  }
  return order(parts, byId);
}

/** A rule's pushes run where their streams are published: its per-stream entries come from every worker. */
export function mergePushes(parts: readonly WorkerPart<PushDto>[]): PushDto[] {
  const byId = new Map<string, PushDto>();
  for (const part of parts) {
    for (const rule of part.items) {
      const seen = byId.get(rule.id);
      if (!seen) {
        byId.set(rule.id, { ...rule, pushes: [...rule.pushes] });
        continue;
      }
      for (const push of rule.pushes) {
        const at = seen.pushes.findIndex((p) => p.path === push.path && p.target === push.target);
        if (at < 0) seen.pushes.push(push);
        else if (PUSH_RANK[push.state] > PUSH_RANK[seen.pushes[at]!.state]) seen.pushes[at] = push;
      }
    }
  }
  return order(parts, byId);
}

/** In the order the first worker listed them (the table's order). */
function order<T extends { id: string }>(parts: readonly WorkerPart<T>[], byId: Map<string, T>): T[] {
  const ids = [...new Set(parts.flatMap((p) => p.items.map((item) => item.id)))];
  return ids.map((id) => byId.get(id)!);
}

export type JobArea = 'proxies' | 'pushes';

const JOB_READ = /^\/api\/(proxies|pushes)(?:\/([^/?]+))?(?:\?.*)?$/;

/**
 * preHandler hook: GET /api/proxies[/:id] and /api/pushes[/:id] answered from every worker's
 * list (the route itself answers an id nobody knows: its 404).
 */
export async function answerJobStatus(
  request: FastifyRequest,
  reply: FastifyReply,
  gather: (area: JobArea) => Promise<WorkerPart<ProxyDto | PushDto>[]>,
): Promise<FastifyReply | undefined> {
  if (request.method !== 'GET') return undefined;
  const match = JOB_READ.exec(request.url);
  if (!match) return undefined;
  const area = match[1] as JobArea;
  const parts = await gather(area);
  const list = area === 'proxies' ? mergeProxies(parts as WorkerPart<ProxyDto>[]) : mergePushes(parts as WorkerPart<PushDto>[]);
  if (!match[2]) return reply.send(area === 'proxies' ? { proxies: list } : { pushes: list });
  const id = decodeURIComponent(match[2]);
  const one = list.find((item) => item.id === id);
  return one ? reply.send(one) : undefined;
}
