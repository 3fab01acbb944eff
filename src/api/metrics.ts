import type { FastifyInstance } from 'fastify';
import { bearerOf } from './auth';

export interface MetricsDeps {
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  contentType: string;
  /** metrics.auth: `secret` wants `Authorization: Bearer <auth.secret>` (as /api); `open` wants nothing. */
  auth: 'secret' | 'open';
  isAdminSecret(value: string | undefined): boolean;
}

/** GET /metrics; its numbers (streams, devices, peers' counts) are not for anyone who asks unless metrics.auth is `open`. */
export async function metricsApi(app: FastifyInstance, deps: MetricsDeps): Promise<void> {
  app.get(
    '/metrics',
    { schema: { tags: ['health'], summary: 'Prometheus metrics (text format 0.0.4); Bearer auth.secret unless metrics.auth is open' } },
    async (request, reply) => {
      if (deps.auth === 'secret' && !deps.isAdminSecret(bearerOf(request.headers.authorization))) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="gateway"')
          .send({ code: 'UNAUTHORIZED', message: '/metrics needs Authorization: Bearer <auth.secret> (or metrics.auth: open)' });
      }
      const text = await deps.text();
      return reply.type(deps.contentType).send(text);
    },
  );
}
