import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** A console page path: one lower-case segment (`/wall`, `/devices`, `/manage-devices`); the page list lives in web/src/pages/index.ts. */
const PAGE_PATH = /^[a-z][a-z0-9-]{0,39}$/;
const SHELL_FILES = new Set(['/', '/index.html', '/style.css']);

/**
 * The console: web/index.html at `/` and at every page path (the page router in the bundle
 * picks the page), web/style.css, and the esbuild bundle (dist/web, `npm run build`) at /assets.
 */
export async function registerWebRoutes(app: FastifyInstance, projectRoot: string): Promise<void> {
  const bundleDir = join(projectRoot, 'dist', 'web');
  await app.register(fastifyStatic, {
    root: join(projectRoot, 'web'),
    prefix: '/',
    index: ['index.html'],
    wildcard: false,
    allowedPath: (path) => SHELL_FILES.has(path.startsWith('/') ? path : `/${path}`),
  });
  await app.register(fastifyStatic, {
    root: bundleDir,
    prefix: '/assets/',
    decorateReply: false,
    wildcard: false,
    allowedPath: (path) => path === '/main.js' || path === '/main.js.map' || path === '/main.js.LEGAL.txt',
  });
  if (!existsSync(join(bundleDir, 'main.js'))) app.log.warn({ bundleDir }, 'the console bundle is missing: run npm run build');
  app.get<{ Params: { page: string } }>('/:page', { schema: { hide: true } }, (request, reply) => {
    if (!PAGE_PATH.test(request.params.page)) return reply.code(404).send({ code: 'NOT_FOUND', message: `no route for GET ${request.url.slice(0, 200)}` });
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
}
