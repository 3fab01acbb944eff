import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import { errorResponses } from './schemas';

export type PushHevc = 'enhanced' | 'legacy' | 'drop';

/** The live state of one stream pushed by a rule. */
export interface PushStatusDto {
  path: string;
  /** The target URL with the stream key masked. */
  target: string;
  state: 'waiting' | 'connecting' | 'pushing' | 'retrying' | 'stopped';
  lastError?: { kind: string; message: string; at: number };
  reconnects: number;
  bytesOut: number;
  bitrateKbps: number;
  framesOut: number;
  framesDropped: number;
  uptimeMs: number;
  codecs: readonly string[];
  notes: readonly string[];
}

/** What the API shows of one push rule. */
export interface PushDto {
  id: string;
  /** `app/stream` or a pattern (`live/*`). */
  path: string;
  /** The URL template with its stream key masked. */
  url: string;
  keepSource: boolean;
  hevc: PushHevc;
  allowSelfSigned: boolean;
  origin: 'config' | 'api';
  createdAt: number;
  updatedAt: number;
  /** One entry per stream the rule pushes now. */
  pushes: PushStatusDto[];
}

export interface PushInput {
  path: string;
  url: string;
  keepSource?: boolean;
  hevc?: PushHevc;
  allowSelfSigned?: boolean;
}

export type PushPatchInput = Partial<PushInput>;

/** Implemented by the app's PushManager. */
export interface PushesService {
  list(): PushDto[];
  get(id: string): PushDto | undefined;
  /** Throws BAD_REQUEST (bad path, pattern or URL). */
  create(input: PushInput): PushDto;
  update(id: string, patch: PushPatchInput): PushDto;
  remove(id: string): boolean;
}

const PATH = { type: 'string', pattern: '^[A-Za-z0-9_.*-]{1,64}/[A-Za-z0-9_.*-]{1,64}$', description: 'hub path app/stream, * matches any name characters' } as const;
const URL = {
  type: 'string',
  pattern: '^[Rr][Tt][Mm][Pp][Ss]?://',
  minLength: 10,
  maxLength: 2048,
  description: 'rtmp[s]://host[:port]/app/key, {app} and {stream} are filled in',
} as const;
const HEVC = { type: 'string', enum: ['enhanced', 'legacy', 'drop'], description: 'H.265 as Enhanced RTMP hvc1, legacy codec id 12, or not sent' } as const;
const BODY_PROPERTIES = { path: PATH, url: URL, keepSource: { type: 'boolean' }, hevc: HEVC, allowSelfSigned: { type: 'boolean' } } as const;

export const pushSchema = {
  $id: 'Push',
  type: 'object',
  properties: {
    id: { type: 'string' },
    path: { type: 'string' },
    url: { type: 'string' },
    keepSource: { type: 'boolean' },
    hevc: HEVC,
    allowSelfSigned: { type: 'boolean' },
    origin: { type: 'string', enum: ['config', 'api'] },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
    pushes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          path: { type: 'string' },
          target: { type: 'string' },
          state: { type: 'string', enum: ['waiting', 'connecting', 'pushing', 'retrying', 'stopped'] },
          lastError: {
            type: 'object',
            properties: {
              kind: { type: 'string', description: 'refused, unreachable, tls, rejected, bad-name, reset, stall, timeout, protocol, source' },
              message: { type: 'string' },
              at: { type: 'integer' },
            },
          },
          reconnects: { type: 'integer' },
          bytesOut: { type: 'integer' },
          bitrateKbps: { type: 'integer' },
          framesOut: { type: 'integer' },
          framesDropped: { type: 'integer' },
          uptimeMs: { type: 'integer' },
          codecs: { type: 'array', items: { type: 'string' } },
          notes: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;

const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,80}$' } }, required: ['id'] } as const;

/** /api/pushes: RTMP/RTMPS pushes to CDNs, their state, last error, reconnects and drops. */
export async function pushesApi(app: FastifyInstance, deps: { pushes: PushesService }): Promise<void> {
  app.addSchema(pushSchema);
  const notFound = (id: string): GatewayError => new GatewayError('NOT_FOUND', `push ${id} not found`);

  app.get(
    '/api/pushes',
    {
      schema: {
        tags: ['pushes'],
        summary: 'Every push rule with the status of each stream it pushes',
        response: { 200: { type: 'object', properties: { pushes: { type: 'array', items: { $ref: 'Push#' } } } } },
      },
    },
    async () => ({ pushes: deps.pushes.list() }),
  );

  app.post<{ Body: PushInput }>(
    '/api/pushes',
    {
      schema: {
        tags: ['pushes'],
        summary: 'Add a push (kept across restarts)',
        body: { type: 'object', properties: BODY_PROPERTIES, required: ['path', 'url'], additionalProperties: false },
        response: { 201: { $ref: 'Push#' }, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(deps.pushes.create(request.body)),
  );

  app.get<{ Params: { id: string } }>(
    '/api/pushes/:id',
    {
      schema: { tags: ['pushes'], summary: 'One push rule', params: idParams, response: { 200: { $ref: 'Push#' }, ...errorResponses } },
    },
    async (request) => {
      const dto = deps.pushes.get(request.params.id);
      if (!dto) throw notFound(request.params.id);
      return dto;
    },
  );

  app.patch<{ Params: { id: string }; Body: PushPatchInput }>(
    '/api/pushes/:id',
    {
      schema: {
        tags: ['pushes'],
        summary: 'Change a push added through the API (its connections restart)',
        params: idParams,
        body: { type: 'object', properties: BODY_PROPERTIES, additionalProperties: false, minProperties: 1 },
        response: { 200: { $ref: 'Push#' }, ...errorResponses },
      },
    },
    async (request) => {
      if (!deps.pushes.get(request.params.id)) throw notFound(request.params.id);
      return deps.pushes.update(request.params.id, request.body);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/pushes/:id',
    {
      schema: {
        tags: ['pushes'],
        summary: 'Delete a push added through the API (its connections end)',
        params: idParams,
        response: { 200: { type: 'object', properties: { deleted: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request) => {
      if (!deps.pushes.remove(request.params.id)) throw notFound(request.params.id);
      return { deleted: request.params.id };
    },
  );
}
