import type { FastifyInstance } from 'fastify';

export interface HealthDeps {
  version: string;
  startedAt: number;
  /** Listener ports actually bound (port 0 in config picks a free one). */
  ports: () => Record<string, number>;
  streams: () => number;
}

export async function healthApi(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get('/api/health', {
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
          },
        },
      },
    },
  }, async () => {
    const memory = process.memoryUsage();
    return {
      status: 'ok',
      version: deps.version,
      uptimeMs: Date.now() - deps.startedAt,
      streams: deps.streams(),
      ports: deps.ports(),
      memory: { rss: memory.rss, heapUsed: memory.heapUsed },
    };
  });
}
