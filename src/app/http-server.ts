import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type pino from 'pino';
import { GatewayError, errorBody, httpStatusOf } from '../core/errors';
import type { GatewayConfig } from '../config/schema';
import { sharedSchemas } from '../api/schemas';
import { clientError, frameworkError } from './http-errors';

/** http.cors.origins as a list (`*` is never a configured origin: the schema refuses it). */
export function corsOrigins(config: GatewayConfig['http']): readonly string[] {
  return config.cors.origins.split(/[\s,]+/).filter((origin) => origin !== '' && origin !== '*');
}

/**
 * The fastify instance every HTTP feature registers on: CORS for the configured origins only, WebSocket upgrades, OpenAPI at
 * /docs, `{code, message}` errors everywhere.
 */
export async function createHttpServer(config: GatewayConfig['http'], log: pino.Logger, version: string): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 200 },
    forceCloseConnections: true,
    requestTimeout: config.requestTimeout * 1000,
    // Node checks header and request timeouts this often (default 30 s, which would let a slow
    // client hold its connection three times http.headersTimeout).
    http: { connectionsCheckingInterval: Math.min(5000, Math.max(250, (config.headersTimeout * 1000) / 4)) },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
  });
  const origins = corsOrigins(config);
  if (origins.length > 0) {
    await app.register(cors, {
      origin: [...origins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['authorization', 'content-type', 'x-csrf-token'],
    });
  }
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Surveillance media gateway API', version, description: 'Streams, sessions and health. Errors are {code, message}.' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  for (const schema of sharedSchemas) app.addSchema(schema);

  app.setErrorHandler((err: FastifyError | GatewayError, request, reply) => {
    if ((err as FastifyError).validation) {
      return reply.code(400).send({ code: 'BAD_REQUEST', message: err.message });
    }
    const status = err instanceof GatewayError ? httpStatusOf(err) : ((err as FastifyError).statusCode ?? 500);
    if (status >= 500) request.log.error({ err }, 'request failed');
    const body = err instanceof GatewayError ? errorBody(err) : { code: status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', message: err.message };
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.slice(0, 200)}` });
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode }, 'http request');
  });
  return app;
}
