/** JSON schemas shared by the API routes (fastify validates and serialises with them). */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
} as const;

export const errorResponses = {
  400: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  500: { $ref: 'Error#' },
} as const;

export const trackSchema = {
  $id: 'Track',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    codec: { type: 'string', enum: ['h264', 'h265', 'aac', 'g711a', 'g711u'] },
    ready: { type: 'boolean' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    profile: { type: 'integer' },
    level: { type: 'integer' },
    sampleRate: { type: 'integer' },
    channels: { type: 'integer' },
  },
  required: ['id', 'codec', 'ready'],
} as const;

export const subscriberSchema = {
  $id: 'Subscriber',
  type: 'object',
  properties: {
    id: { type: 'string' },
    protocol: { type: 'string' },
    remote: { type: 'string' },
    since: { type: 'integer', description: 'ms since the epoch' },
    bytesOut: { type: 'integer' },
    framesOut: { type: 'integer' },
    framesDropped: { type: 'integer' },
    lagging: { type: 'boolean' },
  },
  required: ['id', 'protocol', 'since', 'bytesOut', 'framesOut', 'framesDropped', 'lagging'],
} as const;

export const streamSchema = {
  $id: 'Stream',
  type: 'object',
  properties: {
    path: { type: 'string', description: 'app/stream' },
    app: { type: 'string' },
    stream: { type: 'string' },
    state: { type: 'string', enum: ['live', 'grace', 'ended'], description: 'grace: the publisher left and may come back' },
    ready: { type: 'boolean', description: 'tracks known, viewers are served' },
    tracks: { type: 'array', items: { $ref: 'Track#' } },
    publisher: {
      type: ['object', 'null'],
      properties: { id: { type: 'string' }, kind: { type: 'string' }, remote: { type: 'string' }, since: { type: 'integer' } },
    },
    readers: {
      type: 'object',
      properties: { total: { type: 'integer' }, byProtocol: { type: 'object', additionalProperties: { type: 'integer' } } },
    },
    bytesIn: { type: 'integer' },
    bytesOut: { type: 'integer' },
    bitrateInKbps: { type: 'integer' },
    bitrateOutKbps: { type: 'integer' },
    framesIn: { type: 'integer' },
    framesDropped: { type: 'integer' },
    uptimeMs: { type: 'integer' },
    gopCache: { type: 'object', properties: { frames: { type: 'integer' }, bytes: { type: 'integer' } } },
    subscribers: { type: 'array', items: { $ref: 'Subscriber#' } },
  },
} as const;

export const sessionSchema = {
  $id: 'Session',
  type: 'object',
  properties: {
    id: { type: 'string' },
    role: { type: 'string', enum: ['publisher', 'subscriber'] },
    path: { type: 'string' },
    protocol: { type: 'string' },
    remote: { type: 'string' },
    since: { type: 'integer' },
    bytes: { type: 'integer' },
    framesDropped: { type: 'integer' },
  },
  required: ['id', 'role', 'path', 'protocol', 'since', 'bytes'],
} as const;

export const sharedSchemas = [errorSchema, trackSchema, subscriberSchema, streamSchema, sessionSchema];

export const pathParams = {
  type: 'object',
  properties: { app: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' }, stream: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
  required: ['app', 'stream'],
} as const;
