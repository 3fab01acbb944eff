import type { FastifyInstance } from 'fastify';

export interface HealthDeps {
  version: string;
  startedAt: number;
  /** Listener ports actually bound (port 0 in config picks a free one). */
  ports: () => Record<string, number>;
  /** Live streams (a cluster: over every worker, each counted once). */
  streams: () => number | Promise<number>;
  /** A cluster: worker processes up, and how many there should be. */
  workers?: () => Promise<{ ready: number; configured: number }>;
  /** HTTP connections against their cap (read from counters: health opens nothing). */
  httpLoad?: () => { connections: number; maxConnections: number; fdLimit: number | undefined };
}

/** `GET /api/health`. */
export interface HealthDto {
  status: 'ok' | 'degraded';
  version: string;
  uptimeMs: number;
  streams: number;
  /** Listener name (http, rtmp, rtsp, sip ...) to the port it bound. */
  ports: Record<string, number>;
  memory: { rss: number; heapUsed: number };
  http?: { connections: number; maxConnections: number; fdLimit?: number };
  /** `cluster.workers` > 1: workers up of those configured (memory and http are the answering worker's). */
  workers?: { ready: number; configured: number };
  warnings: string[];
}

/** At this share of the HTTP connection cap health says `degraded`. */
const CONNECTIONS_WARN_SHARE = 0.9;

export async function healthApi(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness, version, uptime, bound ports and resource use',
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              version: { type: 'string' },
              uptimeMs: { type: 'integer' },
              streams: { type: 'integer' },
              ports: { type: 'object', additionalProperties: { type: 'integer' } },
              memory: { type: 'object', properties: { rss: { type: 'integer' }, heapUsed: { type: 'integer' } } },
              http: { type: 'object', properties: { connections: { type: 'integer' }, maxConnections: { type: 'integer' }, fdLimit: { type: 'integer' } } },
              workers: { type: 'object', properties: { ready: { type: 'integer' }, configured: { type: 'integer' } } },
              warnings: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
    async (): Promise<HealthDto> => {
      const memory = process.memoryUsage();
      const load = deps.httpLoad?.();
      const warnings: string[] = [];
      const workers = await deps.workers?.();
      if (workers && workers.ready < workers.configured) warnings.push(`${workers.ready} of ${workers.configured} cluster workers are up`);
      if (load && load.connections >= load.maxConnections * CONNECTIONS_WARN_SHARE) {
        warnings.push(`HTTP connections ${load.connections} of ${load.maxConnections} (http.maxConnections): new clients are being refused`);
      }
      return {
        status: warnings.length ? 'degraded' : 'ok',
        ...(load ? { http: { connections: load.connections, maxConnections: load.maxConnections, ...(load.fdLimit ? { fdLimit: load.fdLimit } : {}) } } : {}),
        ...(workers ? { workers } : {}),
        warnings,
        version: deps.version,
        uptimeMs: Date.now() - deps.startedAt,
        streams: await deps.streams(),
        ports: deps.ports(),
        memory: { rss: memory.rss, heapUsed: memory.heapUsed },
      };
    },
  );
}
