/**
 * The body of every hook, as JSON Schema (the documented contract; a test validates what the
 * gateway sends against it) and as the functions that build them. Field names follow
 * ZLMediaKit's hooks where one exists (app, stream, schema, ip, port, params, regist,
 * mediaServerId), so that GB28181 platforms built against ZLMediaKit need few changes.
 */
export const HOOK_NAMES = [
  'on_publish',
  'on_play',
  'on_stream_changed',
  'on_stream_none_reader',
  'on_stream_not_found',
  'on_record_segment',
  'on_device_online',
  'on_device_offline',
  'on_alarm',
  'on_server_started',
  'on_server_keepalive',
] as const;

export type HookName = (typeof HOOK_NAMES)[number];

const common = {
  hook: { type: 'string' },
  mediaServerId: { type: 'string' },
  time: { type: 'integer', description: 'epoch ms when the body was made' },
} as const;
const commonRequired = ['hook', 'mediaServerId', 'time'] as const;

const streamFields = {
  app: { type: 'string' },
  stream: { type: 'string' },
  path: { type: 'string', description: 'app/stream' },
  schema: { type: 'string', description: 'protocol: rtmp, http-flv, ws-flv, http-ts, hls, rtsp, gb28181, rtp ...' },
} as const;
const streamRequired = ['app', 'stream', 'path', 'schema'] as const;

const peerFields = {
  ip: { type: 'string' },
  port: { type: 'integer' },
  params: { type: 'object', additionalProperties: { type: 'string' }, description: 'the URL query of the request' },
  user: { type: 'string' },
} as const;

function objectSchema(properties: Record<string, unknown>, required: readonly string[]): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties: { ...common, ...properties }, required: [...commonRequired, ...required] };
}

/** JSON Schema of each hook's body. */
export const HOOK_BODY_SCHEMAS: Record<HookName, Record<string, unknown>> = {
  on_publish: objectSchema({ ...streamFields, ...peerFields }, [...streamRequired, 'params']),
  on_play: objectSchema({ ...streamFields, ...peerFields }, [...streamRequired, 'params']),
  on_stream_changed: objectSchema(
    { ...streamFields, regist: { type: 'boolean', description: 'true: the stream is up; false: it is down' }, reason: { type: 'string' }, remote: { type: 'string' } },
    [...streamRequired, 'regist'],
  ),
  on_stream_none_reader: objectSchema({ ...streamFields }, streamRequired),
  on_stream_not_found: objectSchema({ ...streamFields, ...peerFields }, [...streamRequired, 'params']),
  on_record_segment: objectSchema(
    {
      app: streamFields.app,
      stream: streamFields.stream,
      path: streamFields.path,
      format: { type: 'string', enum: ['flv', 'ts', 'hls'] },
      file: { type: 'string', description: 'relative to record.dir' },
      startMs: { type: 'integer' },
      endMs: { type: 'integer' },
      durationMs: { type: 'integer' },
      bytes: { type: 'integer' },
    },
    ['app', 'stream', 'path', 'format', 'file', 'startMs', 'endMs', 'durationMs', 'bytes'],
  ),
  on_device_online: objectSchema({ deviceId: { type: 'string' }, remote: { type: 'string' } }, ['deviceId']),
  on_device_offline: objectSchema({ deviceId: { type: 'string' }, reason: { type: 'string' } }, ['deviceId', 'reason']),
  on_alarm: objectSchema(
    {
      deviceId: { type: 'string' },
      channelId: { type: 'string' },
      alarmId: { type: 'integer', description: 'the stored alarm (GET /api/alarms)' },
      priority: { type: 'integer', description: 'GB/T 28181 AlarmPriority 1-4' },
      method: { type: 'integer', description: 'AlarmMethod 1-7' },
      alarmType: { type: 'integer' },
      alarmTime: { type: 'integer', description: 'epoch ms the device says it happened' },
      description: { type: 'string' },
      longitude: { type: 'number' },
      latitude: { type: 'number' },
    },
    ['deviceId', 'channelId', 'alarmTime'],
  ),
  on_server_started: objectSchema({ version: { type: 'string' }, ports: { type: 'object', additionalProperties: { type: 'integer' } }, startedAt: { type: 'integer' } }, [
    'version',
    'ports',
    'startedAt',
  ]),
  on_server_keepalive: objectSchema(
    {
      uptimeMs: { type: 'integer' },
      streams: { type: 'integer' },
      readers: { type: 'integer' },
      devicesOnline: { type: 'integer' },
      rss: { type: 'integer' },
      heapUsed: { type: 'integer' },
      hookQueue: { type: 'integer', description: 'notifications waiting to be sent' },
    },
    ['uptimeMs', 'streams', 'readers', 'rss', 'heapUsed', 'hookQueue'],
  ),
};

/**
 * What a receiver answers, per hook (a 2xx JSON object; anything else is a failed call):
 * - on_publish, on_play: `{code: 0}` allows; any other code refuses with `msg` as the reason.
 * - on_stream_none_reader: `{code: 0, close: true}` closes the stream, `close: false` keeps it.
 * - on_stream_not_found: `{code: 0, url: "rtsp://..."}` pulls that URL into the path.
 * - every notification: the answer is not read.
 */
export interface StreamContext {
  readonly path: string;
  readonly protocol: string;
  readonly remote?: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly user?: string;
}

export function streamBody(hook: HookName, serverId: string, context: StreamContext): Record<string, unknown> {
  const [app = '', stream = ''] = context.path.split('/');
  return { hook, mediaServerId: serverId, time: Date.now(), app, stream, path: context.path, schema: context.protocol };
}

/** A stream body with the peer's address, query and user (on_publish, on_play, on_stream_not_found). */
export function peerBody(hook: HookName, serverId: string, context: StreamContext): Record<string, unknown> {
  const body = streamBody(hook, serverId, context);
  const peer = splitRemote(context.remote);
  if (peer) Object.assign(body, peer);
  body.params = { ...(context.query ?? {}) };
  if (context.user !== undefined) body.user = context.user;
  return body;
}

export function eventBody(hook: HookName, serverId: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { hook, mediaServerId: serverId, time: Date.now(), ...fields };
}

/** `1.2.3.4:5678` or `[::1]:5678` -> ip and port. */
export function splitRemote(remote: string | undefined): { ip: string; port: number } | undefined {
  if (!remote) return undefined;
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(remote);
  if (!match) return { ip: remote, port: 0 };
  return { ip: match[1] ?? remote, port: Number(match[2]) };
}
