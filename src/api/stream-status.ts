import type { FastifyInstance } from 'fastify';
import type { StreamStatusDto } from './events';
import { pathParams } from './schemas';

export interface StreamStatusApiDeps {
  /** A cluster answers from every worker (a promise). */
  status(path: string): StreamStatusDto | Promise<StreamStatusDto>;
  /** The query string (`token=…`) that lets a browser play the path under auth.play: token. */
  playQuery(path: string): string;
}

const PATH = '^[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}$';

/** Why a stream plays or not, one path or many (a wall opens with one request). */
export async function streamStatusApi(app: FastifyInstance, deps: StreamStatusApiDeps): Promise<void> {
  app.get<{ Params: { app: string; stream: string } }>(
    '/api/streams/:app/:stream/status',
    { schema: { tags: ['streams'], summary: 'Live, or why not in plain words (device offline, INVITE refused, no RTP, RTSP auth, missing)', params: pathParams } },
    async (request) => deps.status(`${request.params.app}/${request.params.stream}`),
  );

  app.post<{ Body: { paths: string[]; sign?: boolean } }>(
    '/api/streams/status',
    {
      schema: {
        tags: ['streams'],
        summary: 'The status of many paths at once; with sign: true each carries the signed play query',
        body: {
          type: 'object',
          properties: { paths: { type: 'array', items: { type: 'string', pattern: PATH }, maxItems: 64 }, sign: { type: 'boolean' } },
          required: ['paths'],
          additionalProperties: false,
        },
      },
    },
    async (request) => ({
      statuses: await Promise.all(request.body.paths.map(async (path) => ({ ...(await deps.status(path)), ...(request.body.sign ? { query: deps.playQuery(path) } : {}) }))),
    }),
  );
}
