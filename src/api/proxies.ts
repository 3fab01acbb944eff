import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import { errorResponses } from './schemas';

/** What the API shows of one pull proxy (RTSP, RTMP/RTMPS or HTTP-FLV). */
export interface ProxyDto {
  id: string;
  /** Hub path `app/stream`: play it at /{app}/{stream}.flv and the other outputs. */
  path: string;
  /** The source URL with the password (and an RTMP stream key) masked. */
  url: string;
  transport: 'auto' | 'tcp' | 'udp';
  onDemand: boolean;
  /** `config`: declared in the config file (read-only here); `api`: added through the API. */
  origin: 'config' | 'api' | 'hook';
  createdAt: number;
  updatedAt: number;
  status: {
    state: 'idle' | 'connecting' | 'playing' | 'retrying' | 'stopped';
    lastError?: { kind: string; message: string; at: number };
    reconnects: number;
    bitrateKbps: number;
    bytesIn: number;
    transport?: 'tcp' | 'udp';
    tracks: readonly string[];
    playingSince?: number;
  };
}

export interface ProxyInput {
  path: string;
  url: string;
  transport?: 'auto' | 'tcp' | 'udp';
  onDemand?: boolean;
}

export type ProxyPatchInput = Partial<ProxyInput>;

/** Implemented by the app's ProxyManager. */
export interface ProxiesService {
  list(): ProxyDto[];
  get(id: string): ProxyDto | undefined;
  /** Throws BAD_REQUEST (bad path or URL) or STREAM_BUSY (path taken). */
  create(input: ProxyInput): ProxyDto;
  update(id: string, patch: ProxyPatchInput): Promise<ProxyDto>;
  remove(id: string): Promise<boolean>;
}

export interface ProxiesApiDeps {
  proxies: ProxiesService;
}

const PATH = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}$', description: 'hub path app/stream' } as const;
const URL = {
  type: 'string',
  pattern: '^([Rr][Tt][Ss][Pp]|[Rr][Tt][Mm][Pp][Ss]?|[Hh][Tt][Tt][Pp][Ss]?)://',
  minLength: 8,
  maxLength: 2048,
  description: 'rtsp://[user:pass@]host[:port]/path, rtmp[s]://host[:port]/app/stream or http(s)://host/path.flv',
} as const;
const TRANSPORT = { type: 'string', enum: ['auto', 'tcp', 'udp'], description: 'auto: UDP first, TCP when UDP carries nothing' } as const;

export const proxySchema = {
  $id: 'Proxy',
  type: 'object',
  properties: {
    id: { type: 'string' },
    path: { type: 'string' },
    url: { type: 'string' },
    transport: TRANSPORT,
    onDemand: { type: 'boolean' },
    origin: { type: 'string', enum: ['config', 'api', 'hook'] },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
    status: {
      type: 'object',
      properties: {
        state: { type: 'string', enum: ['idle', 'connecting', 'playing', 'retrying', 'stopped'] },
        lastError: {
          type: 'object',
          properties: {
            kind: { type: 'string', description: 'auth, unreachable, not-found, unsupported-codec, timeout, protocol, transport, busy' },
            message: { type: 'string' },
            at: { type: 'integer' },
          },
        },
        reconnects: { type: 'integer' },
        bitrateKbps: { type: 'integer' },
        bytesIn: { type: 'integer' },
        transport: { type: 'string', enum: ['tcp', 'udp'] },
        tracks: { type: 'array', items: { type: 'string' } },
        playingSince: { type: 'integer' },
      },
    },
  },
} as const;

const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,80}$' } }, required: ['id'] } as const;

/** /api/proxies: RTSP pull proxies, their state, last error, reconnects, bitrate and tracks. */
export async function proxiesApi(app: FastifyInstance, deps: ProxiesApiDeps): Promise<void> {
  app.addSchema(proxySchema);
  const notFound = (id: string): GatewayError => new GatewayError('PROXY_NOT_FOUND', `proxy ${id} not found`);

  app.get(
    '/api/proxies',
    {
      schema: {
        tags: ['proxies'],
        summary: 'Every RTSP pull proxy with its status',
        response: { 200: { type: 'object', properties: { proxies: { type: 'array', items: { $ref: 'Proxy#' } } } } },
      },
    },
    async () => ({ proxies: deps.proxies.list() }),
  );

  app.post<{ Body: ProxyInput }>(
    '/api/proxies',
    {
      schema: {
        tags: ['proxies'],
        summary: 'Add an RTSP pull proxy (kept across restarts)',
        body: { type: 'object', properties: { path: PATH, url: URL, transport: TRANSPORT, onDemand: { type: 'boolean' } }, required: ['path', 'url'], additionalProperties: false },
        response: { 201: { $ref: 'Proxy#' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const dto = deps.proxies.create(request.body);
      return reply.code(201).send(dto);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/proxies/:id',
    {
      schema: { tags: ['proxies'], summary: 'One proxy', params: idParams, response: { 200: { $ref: 'Proxy#' }, ...errorResponses } },
    },
    async (request) => {
      const dto = deps.proxies.get(request.params.id);
      if (!dto) throw notFound(request.params.id);
      return dto;
    },
  );

  app.patch<{ Params: { id: string }; Body: ProxyPatchInput }>(
    '/api/proxies/:id',
    {
      schema: {
        tags: ['proxies'],
        summary: 'Change a proxy added through the API (it reconnects with the new settings)',
        params: idParams,
        body: { type: 'object', properties: { path: PATH, url: URL, transport: TRANSPORT, onDemand: { type: 'boolean' } }, additionalProperties: false, minProperties: 1 },
        response: { 200: { $ref: 'Proxy#' }, ...errorResponses },
      },
    },
    async (request) => {
      if (!deps.proxies.get(request.params.id)) throw notFound(request.params.id);
      return deps.proxies.update(request.params.id, request.body);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/proxies/:id',
    {
      schema: {
        tags: ['proxies'],
        summary: 'Delete a proxy added through the API (TEARDOWN, its stream ends)',
        params: idParams,
        response: { 200: { type: 'object', properties: { deleted: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request) => {
      if (!(await deps.proxies.remove(request.params.id))) throw notFound(request.params.id);
      return { deleted: request.params.id };
    },
  );
}
