import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import type { ControlResult } from '../../sip/gb28181/device-commands';
import type { BasicParamSettings, ControlRequest, DeviceControlCommand, Preset } from '../../sip/gb28181/control';
import type { PlaybackControl } from '../../sip/gb28181/mansrtsp';
import type { PresetAction, PtzRequest } from '../../sip/gb28181/ptz';
import type { RecordInfoResult, RecordType } from '../../sip/gb28181/records';
import { gbErrorResponses } from './gb-schemas';

export interface GbControlApiDeps {
  commands: {
    control(deviceId: string, targetId: string, request: ControlRequest): Promise<ControlResult>;
    device(deviceId: string, targetId: string, command: DeviceControlCommand): Promise<ControlResult>;
    recordInfo(deviceId: string, channelId: string, startMs: number, endMs: number, type: RecordType): Promise<RecordInfoResult>;
    presets(deviceId: string, channelId: string): Promise<Preset[]>;
  };
  configure(deviceId: string, settings: BasicParamSettings): Promise<ControlResult>;
  playback: {
    control(path: string, control: PlaybackControl): Promise<unknown>;
  };
  playbackPath(deviceId: string, channelId: string, start: number, end: number): string;
  /** The PTZCmd hex of a request body, and of a preset action (sip/gb28181/ptz.ts). */
  ptz: { commands: readonly string[]; encode(body: PtzBody): string; preset(action: PresetAction, preset: number): string };
  recordTypes: readonly RecordType[];
  alarms: { find(query: { deviceId?: string; startMs?: number; endMs?: number; limit?: number; offset?: number }): { total: number; items: object[] } };
  speeds: { min: number; max: number };
}

/** Unix seconds, Unix ms, or an ISO 8601 date -> epoch ms. */
export function parseApiTime(value: string, what: string): number {
  const text = value.trim();
  const ms = /^\d{9,10}$/.test(text) ? Number(text) * 1000 : /^\d{12,13}$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new GatewayError('BAD_REQUEST', `${what} must be Unix seconds or an ISO 8601 date, got "${text.slice(0, 40)}"`);
  return ms;
}

const resultSchema = { type: 'object', properties: { command: { type: 'string' }, result: { type: 'string' }, message: { type: 'string' } } } as const;
const channelParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^\\d{20}$' }, channelId: { type: 'string', pattern: '^[0-9A-Za-z]{10,32}$' } },
  required: ['id', 'channelId'],
} as const;
const speed = { type: 'integer', minimum: 0, maximum: 255 } as const;

type PtzBody = PtzRequest;

/**
 * The device's own recordings (RecordInfo), PTZ and presets, device control and configuration,
 * playback control. Every answer says what the device did, or that it did not answer.
 */
export async function gbControlApi(app: FastifyInstance, deps: GbControlApiDeps): Promise<void> {
  app.get<{ Params: { id: string; channelId: string }; Querystring: { start: string; end: string; type?: RecordType } }>(
    '/api/devices/:id/channels/:channelId/records',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'RecordInfo: the recordings the device holds for a channel (joined from all its answer messages; partial after sip.recordInfoTimeout)',
        params: channelParams,
        querystring: {
          type: 'object',
          properties: { start: { type: 'string', maxLength: 40 }, end: { type: 'string', maxLength: 40 }, type: { type: 'string', enum: [...deps.recordTypes], default: 'all' } },
          required: ['start', 'end'],
        },
        response: { ...gbErrorResponses },
      },
    },
    async (request) => {
      const { id, channelId } = request.params;
      const startMs = parseApiTime(request.query.start, 'start');
      const endMs = parseApiTime(request.query.end, 'end');
      const result = await deps.commands.recordInfo(id, channelId, startMs, endMs, request.query.type ?? 'all');
      return {
        deviceId: id,
        channelId,
        sumNum: result.sumNum ?? null,
        complete: result.complete,
        partial: !result.complete,
        messages: result.messages,
        records: result.items.map((r) => ({
          ...r,
          start: new Date(r.startMs).toISOString(),
          end: new Date(r.endMs).toISOString(),
          playback: deps.playbackPath(id, channelId, Math.floor(r.startMs / 1000), Math.floor(r.endMs / 1000)),
        })),
      };
    },
  );

  app.get<{ Querystring: { device?: string; start?: string; end?: string; limit?: number; offset?: number } }>(
    '/api/alarms',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Device alarms (Notify/Alarm), newest first; device, start and end (Unix seconds or ISO 8601) filter',
        querystring: {
          type: 'object',
          properties: {
            device: { type: 'string', pattern: '^\\d{20}$' },
            start: { type: 'string', maxLength: 40 },
            end: { type: 'string', maxLength: 40 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 },
          },
        },
        response: { ...gbErrorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      return deps.alarms.find({
        ...(q.device ? { deviceId: q.device } : {}),
        ...(q.start ? { startMs: parseApiTime(q.start, 'start') } : {}),
        ...(q.end ? { endMs: parseApiTime(q.end, 'end') } : {}),
        limit: q.limit ?? 100,
        offset: q.offset ?? 0,
      });
    },
  );

  app.post<{ Params: { id: string; channelId: string }; Body: PtzBody }>(
    '/api/devices/:id/channels/:channelId/ptz',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'PTZ: pan/tilt in 8 directions, zoom, focus, iris, stop (speed 0-255, zoom 0-15), cruise and scan (action, group, value)',
        params: channelParams,
        body: {
          type: 'object',
          properties: {
            command: { type: 'string', enum: [...deps.ptz.commands, 'cruise', 'scan'] },
            speed,
            panSpeed: speed,
            tiltSpeed: speed,
            zoomSpeed: { type: 'integer', minimum: 0, maximum: 15 },
            action: { type: 'string', enum: ['add', 'remove', 'speed', 'dwell', 'start', 'stop', 'left', 'right'] },
            group: speed,
            value: { type: 'integer', minimum: 0, maximum: 4095 },
          },
          required: ['command'],
          additionalProperties: false,
        },
        response: { 200: { ...resultSchema, properties: { ...resultSchema.properties, ptzCmd: { type: 'string' } } }, ...gbErrorResponses },
      },
    },
    async (request) => {
      const ptzCmd = deps.ptz.encode(request.body);
      return { ...(await deps.commands.device(request.params.id, request.params.channelId, { kind: 'ptz', ptzCmd })), ptzCmd };
    },
  );

  app.get<{ Params: { id: string; channelId: string } }>(
    '/api/devices/:id/channels/:channelId/presets',
    {
      schema: { tags: ['gb28181'], summary: 'PresetQuery: the presets of a PTZ channel', params: channelParams, response: { ...gbErrorResponses } },
    },
    async (request) => ({ presets: await deps.commands.presets(request.params.id, request.params.channelId) }),
  );

  app.post<{ Params: { id: string; channelId: string }; Body: { action: 'set' | 'call' | 'delete'; preset: number } }>(
    '/api/devices/:id/channels/:channelId/presets',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Set, call or delete a preset (1-255)',
        params: channelParams,
        body: {
          type: 'object',
          properties: { action: { type: 'string', enum: ['set', 'call', 'delete'] }, preset: { type: 'integer', minimum: 1, maximum: 255 } },
          required: ['action', 'preset'],
          additionalProperties: false,
        },
        response: { 200: { ...resultSchema, properties: { ...resultSchema.properties, ptzCmd: { type: 'string' } } }, ...gbErrorResponses },
      },
    },
    async (request) => {
      const ptzCmd = deps.ptz.preset(request.body.action, request.body.preset);
      return { ...(await deps.commands.device(request.params.id, request.params.channelId, { kind: 'ptz', ptzCmd })), ptzCmd };
    },
  );

  type ControlBody = { command: 'teleboot' | 'record' | 'stopRecord' | 'guard' | 'unguard' | 'resetAlarm' | 'iframe'; channelId?: string };
  app.post<{ Params: { id: string }; Body: ControlBody }>(
    '/api/devices/:id/control',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Device control: TeleBoot, RecordCmd (record/stopRecord), GuardCmd (guard/unguard), AlarmCmd (resetAlarm), IFameCmd (iframe); channelId targets one channel',
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^\\d{20}$' } }, required: ['id'] },
        body: {
          type: 'object',
          properties: {
            command: { type: 'string', enum: ['teleboot', 'record', 'stopRecord', 'guard', 'unguard', 'resetAlarm', 'iframe'] },
            channelId: { type: 'string', pattern: '^[0-9A-Za-z]{10,32}$' },
          },
          required: ['command'],
          additionalProperties: false,
        },
        response: { 200: resultSchema, ...gbErrorResponses },
      },
    },
    async (request) => {
      const { command, channelId } = request.body;
      const commands: Record<ControlBody['command'], DeviceControlCommand> = {
        teleboot: { kind: 'teleboot' },
        record: { kind: 'record', start: true },
        stopRecord: { kind: 'record', start: false },
        guard: { kind: 'guard', arm: true },
        unguard: { kind: 'guard', arm: false },
        resetAlarm: { kind: 'alarmReset' },
        iframe: { kind: 'iframe' },
      };
      return deps.commands.device(request.params.id, channelId ?? request.params.id, commands[command]);
    },
  );

  app.post<{ Params: { id: string }; Body: BasicParamSettings }>(
    '/api/devices/:id/config',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'DeviceConfig BasicParam: name, registration expiry, heartbeat interval and count',
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^\\d{20}$' } }, required: ['id'] },
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 64 },
            expiration: { type: 'integer', minimum: 60, maximum: 604_800 },
            heartbeatInterval: { type: 'integer', minimum: 5, maximum: 3600 },
            heartbeatCount: { type: 'integer', minimum: 1, maximum: 100 },
          },
          additionalProperties: false,
          minProperties: 1,
        },
        response: { 200: resultSchema, ...gbErrorResponses },
      },
    },
    async (request) => deps.configure(request.params.id, request.body),
  );

  app.post<{ Params: { app: string; stream: string; action: PlaybackControl['action'] }; Body: { position?: number; speed?: number } | undefined }>(
    '/api/playback/:app/:stream/:action',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Playback control of a GB28181 playback (INFO MANSRTSP): pause, resume, seek {position: s from the range start}, speed {speed}',
        params: {
          type: 'object',
          properties: {
            app: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
            stream: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
            action: { type: 'string', enum: ['pause', 'resume', 'seek', 'speed'] },
          },
          required: ['app', 'stream', 'action'],
        },
        body: {
          type: ['object', 'null'],
          properties: { position: { type: 'number', minimum: 0, maximum: 864_000 }, speed: { type: 'number', minimum: deps.speeds.min, maximum: deps.speeds.max } },
        },
        response: { ...gbErrorResponses },
      },
    },
    async (request) => {
      const { app: appName, stream, action } = request.params;
      const body = request.body ?? {};
      let control: PlaybackControl;
      if (action === 'seek') {
        if (body.position === undefined) throw new GatewayError('BAD_REQUEST', 'seek needs {position} (seconds from the start of the range)');
        control = { action, position: body.position };
      } else if (action === 'speed') {
        if (body.speed === undefined) throw new GatewayError('BAD_REQUEST', `speed needs {speed} (${deps.speeds.min}-${deps.speeds.max})`);
        control = { action, speed: body.speed };
      } else {
        control = { action };
      }
      return deps.playback.control(`${appName}/${stream}`, control);
    },
  );
}
