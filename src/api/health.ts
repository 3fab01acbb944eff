import type { FastifyInstance } from 'fastify';

export interface HealthDeps {
  version: string;
  startedAt: number;
  /** Listener ports actually bound (port 0 in config picks a free one). */
  ports: () => Record<string, number>;
  streams: () => number;
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
      if (load && load.connections >= load.maxConnections * CONNECTIONS_WARN_SHARE) {
        warnings.push(`HTTP connections ${load.connections} of ${load.maxConnections} (http.maxConnections): new clients are being refused`);
      }
      return {
        status: warnings.length ? 'degraded' : 'ok',
        ...(load ? { http: { connections: load.connections, maxConnections: load.maxConnections, ...(load.fdLimit ? { fdLimit: load.fdLimit } : {}) } } : {}),
        warnings,
        version: deps.version,
        uptimeMs: Date.now() - deps.startedAt,
        streams: deps.streams(),
        ports: deps.ports(),
        memory: { rss: memory.rss, heapUsed: memory.heapUsed },
      };
    },
  );
}
