import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** The browser pages of web/ at `/`, and the player library they use at /vendor. */
export async function registerWebRoutes(app: FastifyInstance, projectRoot: string): Promise<void> {
  await app.register(fastifyStatic, { root: join(projectRoot, 'web'), prefix: '/', index: ['index.html'], wildcard: false });
  const mpegtsDir = join(require.resolve('mpegts.js/package.json'), '..', 'dist');
  await app.register(fastifyStatic, {
    root: mpegtsDir,
    prefix: '/vendor/',
    decorateReply: false,
    wildcard: false,
    allowedPath: (path) => path === '/mpegts.js' || path === '/mpegts.js.map',
  });
}
