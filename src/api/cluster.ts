import type { FastifyInstance } from 'fastify';

/** One worker process of a `cluster.workers > 1` gateway. */
export interface ClusterWorkerDto {
  slot: number;
  pid: number;
  ready: boolean;
  /** Times the primary started this slot again after its process died. */
  restarts: number;
  /** Streams it owns (their publisher or on-demand source is there). */
  ownedStreams: number;
  /** Its CPU since it started, ms (user + system), and its resident memory. */
  cpuMs?: number;
  rss?: number;
}

export interface ClusterDirectoryDto {
  path: string;
  owner: number;
  state: 'claimed' | 'live' | 'held';
  since: number;
}

export interface ClusterDto {
  /** The slot that answered this request. */
  answeredBy: number;
  workers: ClusterWorkerDto[];
  directory: ClusterDirectoryDto[];
}

export interface ClusterApiDeps {
  status(): Promise<ClusterDto>;
}

const WORKER = {
  type: 'object',
  properties: {
    slot: { type: 'integer' },
    pid: { type: 'integer' },
    ready: { type: 'boolean' },
    restarts: { type: 'integer' },
    ownedStreams: { type: 'integer' },
    cpuMs: { type: 'number' },
    rss: { type: 'integer' },
  },
} as const;

const ENTRY = { type: 'object', properties: { path: { type: 'string' }, owner: { type: 'integer' }, state: { type: 'string' }, since: { type: 'integer' } } } as const;

/** GET /api/cluster: the workers and the stream directory (only with cluster.workers > 1). */
export async function clusterApi(app: FastifyInstance, deps: ClusterApiDeps): Promise<void> {
  app.get(
    '/api/cluster',
    {
      schema: {
        tags: ['cluster'],
        summary: 'Worker processes (slot, pid, restarts, owned streams, CPU) and which worker owns each stream',
        response: {
          200: { type: 'object', properties: { answeredBy: { type: 'integer' }, workers: { type: 'array', items: WORKER }, directory: { type: 'array', items: ENTRY } } },
        },
      },
    },
    () => deps.status(),
  );
}
