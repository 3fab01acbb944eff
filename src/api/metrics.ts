import type { FastifyInstance } from 'fastify';

export interface MetricsDeps {
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  contentType: string;
}

export async function metricsApi(app: FastifyInstance, deps: MetricsDeps): Promise<void> {
  app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics (text format 0.0.4)' } }, async (_request, reply) => {
    const text = await deps.text();
    return reply.type(deps.contentType).send(text);
  });
}
