import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import type { SessionSnapshot } from '../hub/registry';
import type { StreamSnapshot } from '../hub/stream';
import { errorResponses, pathParams } from './schemas';

type MaybePromise<T> = T | Promise<T>;

/** The hub's lists; with cluster.workers > 1 they are gathered from every worker (app/cluster). */
export interface StreamsView {
  list(): MaybePromise<StreamSnapshot[]>;
  get(path: string): MaybePromise<StreamSnapshot | undefined>;
  kick(path: string, reason?: string): MaybePromise<boolean>;
  sessions(): MaybePromise<SessionSnapshot[]>;
  closeSession(id: string, reason?: string): MaybePromise<boolean>;
}

export interface StreamsApiDeps {
  registry: StreamsView;
}

export type StreamDto = StreamSnapshot & { app: string; stream: string };

function toDto(snapshot: StreamSnapshot): StreamDto {
  const [app = '', stream = ''] = snapshot.path.split('/');
  return { ...snapshot, app, stream };
}

/** /api/streams and /api/sessions: what is live, who publishes and who watches. */
export async function streamsApi(app: FastifyInstance, deps: StreamsApiDeps): Promise<void> {
  app.get(
    '/api/streams',
    {
      schema: {
        tags: ['streams'],
        summary: 'Every live stream with its tracks, publisher, readers per protocol, bytes and bit rates',
        response: { 200: { type: 'object', properties: { streams: { type: 'array', items: { $ref: 'Stream#' } } } } },
      },
    },
    async () => ({ streams: (await deps.registry.list()).map(toDto) }),
  );

  app.get<{ Params: { app: string; stream: string } }>(
    '/api/streams/:app/:stream',
    {
      schema: { tags: ['streams'], summary: 'One stream', params: pathParams, response: { 200: { $ref: 'Stream#' }, ...errorResponses } },
    },
    async (request) => {
      const path = `${request.params.app}/${request.params.stream}`;
      const snapshot = await deps.registry.get(path);
      if (!snapshot) throw new GatewayError('STREAM_NOT_FOUND', `stream ${path} not found`);
      return toDto(snapshot);
    },
  );

  app.delete<{ Params: { app: string; stream: string } }>(
    '/api/streams/:app/:stream',
    {
      schema: {
        tags: ['streams'],
        summary: 'Kick the publisher and end the stream (its viewers are disconnected)',
        params: pathParams,
        response: { 200: { type: 'object', properties: { kicked: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request) => {
      const path = `${request.params.app}/${request.params.stream}`;
      if (!(await deps.registry.kick(path, 'kicked through the API'))) throw new GatewayError('STREAM_NOT_FOUND', `stream ${path} not found`);
      return { kicked: path };
    },
  );

  app.get(
    '/api/sessions',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Every publisher and viewer session',
        response: { 200: { type: 'object', properties: { sessions: { type: 'array', items: { $ref: 'Session#' } } } } },
      },
    },
    async () => ({ sessions: await deps.registry.sessions() }),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/sessions/:id',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Close one session (a publisher session ends its stream)',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 200: { type: 'object', properties: { closed: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request) => {
      if (!(await deps.registry.closeSession(request.params.id))) throw new GatewayError('SESSION_NOT_FOUND', `session ${request.params.id} not found`);
      return { closed: request.params.id };
    },
  );
}
