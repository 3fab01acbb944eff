import { STREAM_MODES } from '../core/gb28181';

/** JSON schemas of the GB28181 API (devices, channels, play, invites, SIP log). */
const nullableString = { type: ['string', 'null'] } as const;
const nullableInteger = { type: ['integer', 'null'] } as const;

export const gbErrorResponses = {
  400: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  500: { $ref: 'Error#' },
  502: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
  504: { $ref: 'Error#' },
} as const;

export const deviceIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^\\d{20}$', description: '20-digit GB28181 device id' } },
  required: ['id'],
} as const;

export const playParams = {
  type: 'object',
  properties: {
    deviceId: { type: 'string', pattern: '^\\d{20}$' },
    channelId: { type: 'string', pattern: '^[0-9A-Za-z]{10,32}$' },
  },
  required: ['deviceId', 'channelId'],
} as const;

export const pageQuery = {
  page: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
  count: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  q: { type: 'string', maxLength: 100, description: 'search in id, name, address ...' },
  online: { type: 'boolean' },
} as const;

export const deviceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: nullableString,
    manufacturer: nullableString,
    model: nullableString,
    firmware: nullableString,
    transport: { type: 'string', enum: ['udp', 'tcp'], description: 'SIP transport it registered over' },
    address: { ...nullableString, description: 'ip:port it last sent from (requests go there)' },
    charset: { type: 'string' },
    streamMode: { type: 'string', enum: [...STREAM_MODES] },
    hasPassword: { type: 'boolean', description: 'a per-device password is set (else the global one)' },
    noAuth: { type: 'boolean' },
    provisioned: { type: 'boolean', description: 'created through the API' },
    online: { type: 'boolean' },
    registeredAt: nullableInteger,
    keepaliveAt: nullableInteger,
    expires: nullableInteger,
    heartbeatInterval: nullableInteger,
    heartbeatCount: nullableInteger,
    onlineAt: nullableInteger,
    offlineAt: nullableInteger,
    offlineReason: nullableString,
    catalogAt: nullableInteger,
    channelCount: { type: 'integer' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
    session: {
      type: ['object', 'null'],
      description: 'live registration state (null when offline)',
      properties: {
        remote: { type: 'string' },
        transport: { type: 'string' },
        registeredAt: { type: 'integer' },
        expires: { type: 'integer' },
        lastKeepaliveAt: { type: 'integer' },
        heartbeatInterval: { type: 'number' },
        heartbeatCount: { type: 'integer' },
        offlineAt: { type: 'integer', description: 'when it goes offline without a keepalive or re-REGISTER' },
      },
    },
  },
} as const;

export const channelSchema = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    id: { type: 'string' },
    kind: { type: 'string', enum: ['civil', 'group', 'org', 'device'], description: 'civil code, business group (215), virtual organisation (216) or a channel' },
    name: { type: 'string' },
    parentId: { type: 'string' },
    civilCode: { type: 'string' },
    businessGroupId: { type: 'string' },
    manufacturer: { type: 'string' },
    model: { type: 'string' },
    owner: { type: 'string' },
    address: { type: 'string' },
    ipAddress: { type: 'string' },
    port: { type: 'integer' },
    status: { type: 'string' },
    online: { type: 'boolean' },
    ptzType: { type: 'integer' },
    longitude: { type: 'number' },
    latitude: { type: 'number' },
    gone: { type: 'boolean', description: 'no longer in the device catalog' },
    raw: { type: 'object', additionalProperties: true },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
    stream: { type: 'string', description: 'the on-demand path rtp/{deviceId}_{channelId}' },
  },
} as const;

export const pageOf = (items: object) =>
  ({ type: 'object', properties: { total: { type: 'integer' }, page: { type: 'integer' }, count: { type: 'integer' }, items: { type: 'array', items } } }) as const;

export const deviceBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 100 },
    password: { type: ['string', 'null'], maxLength: 64, description: 'per-device digest password; null: use sip.password' },
    noAuth: { type: 'boolean', description: 'accept REGISTER without digest' },
    streamMode: { type: 'string', enum: [...STREAM_MODES] },
    charset: { type: 'string', enum: ['GB2312', 'GBK', 'GB18030', 'UTF-8'] },
  },
} as const;

export const streamUrlsSchema = {
  type: 'object',
  properties: {
    app: { type: 'string' },
    stream: { type: 'string' },
    path: { type: 'string' },
    deviceId: { type: 'string' },
    channelId: { type: 'string' },
    rtmp: { type: 'string' },
    flv: { type: 'string' },
    ws_flv: { type: 'string' },
    hls: { type: 'string' },
    ts: { type: 'string' },
    tracks: { type: 'array', items: { $ref: 'Track#' } },
  },
} as const;

export const inviteSchema = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    deviceId: { type: 'string' },
    channelId: { type: 'string' },
    state: { type: 'string', enum: ['inviting', 'waiting-media', 'live', 'ended'] },
    kind: { type: 'string', enum: ['live', 'playback'] },
    paused: { type: 'boolean' },
    speed: { type: 'number' },
    range: { type: 'object', properties: { start: { type: 'integer' }, end: { type: 'integer' } }, description: 'playback range, Unix seconds' },
    mode: { type: 'string' },
    ssrc: { type: 'string' },
    callId: { type: 'string' },
    localPort: { type: 'integer' },
    deviceMedia: { type: 'string', description: 'c=/m= of the device answer' },
    startedAt: { type: 'integer' },
    endReason: { type: 'string' },
    media: {
      type: 'object',
      properties: { packets: { type: 'integer' }, bytes: { type: 'integer' }, peer: { type: 'string' }, ssrcMismatches: { type: 'integer' }, lost: { type: 'integer' } },
    },
  },
} as const;

export const sipLogEntrySchema = {
  type: 'object',
  properties: {
    at: { type: 'integer' },
    direction: { type: 'string', enum: ['in', 'out'] },
    remote: { type: 'string' },
    transport: { type: 'string' },
    summary: { type: 'string' },
    text: { type: 'string' },
  },
} as const;
