import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import type { CatalogResult } from '../../sip/gb28181/catalog';
import type { DeviceStatus } from '../../sip/gb28181/commands';
import type { DeviceSession } from '../../sip/gb28181/sessions';
import type { SipLogEntry } from '../../sip/gb28181/sip-log';
import type { GbChannel, GbDevice, GbDevicePatch } from '../core/gb28181';
import type { DeviceQuery } from '../../storage/repos/devices';
import type { ChannelQuery } from '../../storage/repos/channels';
import { channelSchema, deviceBody, deviceIdParams, deviceSchema, gbErrorResponses, pageOf, pageQuery, sipLogEntrySchema } from './gb-schemas';

export interface DevicesApiDeps {
  devices: {
    get(id: string): GbDevice | undefined;
    list(query: DeviceQuery): { total: number; items: GbDevice[] };
    create(id: string, patch: GbDevicePatch): GbDevice | undefined;
    update(id: string, patch: GbDevicePatch): GbDevice | undefined;
    delete(id: string): boolean;
  };
  channels: { list(query: ChannelQuery & { deviceId?: string }): { total: number; items: GbChannel[] } };
  gb: {
    session(id: string): DeviceSession | undefined;
    refreshCatalog(id: string): Promise<CatalogResult>;
    deviceStatus(id: string): Promise<DeviceStatus>;
    sipLogOf(id: string, limit?: number): SipLogEntry[];
    settingsChanged(id: string): void;
    forget(id: string): void;
  };
  /** Ends the device's live pulls (it is being deleted). */
  stopDevice(id: string, reason: string): Promise<void>;
}

type DeviceBody = { name?: string; password?: string | null; noAuth?: boolean; streamMode?: GbDevice['streamMode']; charset?: string };

/** The device as the API shows it: never its password. */
export function deviceDto(record: GbDevice, session: DeviceSession | undefined): Record<string, unknown> {
  const { password, callId: _callId, ...rest } = record;
  void _callId;
  const offlineAt = session ? Math.min(session.registeredAt + session.expires * 1000, session.lastKeepaliveAt + session.heartbeatInterval * session.heartbeatCount * 1000) : undefined;
  return {
    ...rest,
    hasPassword: !!password,
    session: session
      ? {
          remote: `${session.remote.address}:${session.remote.port}`,
          transport: session.remote.protocol,
          registeredAt: session.registeredAt,
          expires: session.expires,
          lastKeepaliveAt: session.lastKeepaliveAt,
          heartbeatInterval: session.heartbeatInterval,
          heartbeatCount: session.heartbeatCount,
          offlineAt,
        }
      : null,
  };
}

export function channelDto(record: GbChannel): Record<string, unknown> {
  return { ...record, stream: `rtp/${record.deviceId}_${record.id}` };
}

function patchOf(body: DeviceBody): GbDevicePatch {
  return {
    name: body.name,
    password: body.password === undefined ? undefined : body.password === '' ? null : body.password,
    noAuth: body.noAuth,
    streamMode: body.streamMode,
    charset: body.charset,
  };
}

/** /api/devices: GB28181 devices (wvp-like shapes), their channels, catalog refresh and SIP log. */
export async function devicesApi(app: FastifyInstance, deps: DevicesApiDeps): Promise<void> {
  const requireDevice = (id: string): GbDevice => {
    const record = deps.devices.get(id);
    if (!record) throw new GatewayError('STREAM_NOT_FOUND', `device ${id} is not known`);
    return record;
  };

  app.get<{ Querystring: DeviceQuery }>('/api/devices', {
    schema: { tags: ['gb28181'], summary: 'Devices, paged; q searches id, name, vendor, model, address', querystring: { type: 'object', properties: pageQuery }, response: { 200: pageOf(deviceSchema), ...gbErrorResponses } },
  }, async (request) => {
    const { page = 1, count = 100 } = request.query;
    const result = deps.devices.list(request.query);
    return { total: result.total, page, count, items: result.items.map((d) => deviceDto(d, deps.gb.session(d.id))) };
  });

  app.get<{ Params: { id: string } }>('/api/devices/:id', {
    schema: { tags: ['gb28181'], summary: 'One device with its live registration', params: deviceIdParams, response: { 200: deviceSchema, ...gbErrorResponses } },
  }, async (request) => deviceDto(requireDevice(request.params.id), deps.gb.session(request.params.id)));

  app.post<{ Body: DeviceBody & { id: string } }>('/api/devices', {
    schema: {
      tags: ['gb28181'],
      summary: 'Provision a device before it registers (its password, no-auth, stream mode, charset)',
      body: { ...deviceBody, properties: { ...deviceBody.properties, id: { type: 'string', pattern: '^\\d{20}$' } }, required: ['id'] },
      response: { 201: deviceSchema, ...gbErrorResponses },
    },
  }, async (request, reply) => {
    const created = deps.devices.create(request.body.id, { ...patchOf(request.body), provisioned: true });
    if (!created) throw new GatewayError('BAD_REQUEST', `device ${request.body.id} already exists: change it with PATCH /api/devices/${request.body.id}`);
    void reply.code(201);
    return deviceDto(created, deps.gb.session(created.id));
  });

  app.patch<{ Params: { id: string }; Body: DeviceBody }>('/api/devices/:id', {
    schema: { tags: ['gb28181'], summary: 'Change a device (the same fields as POST)', params: deviceIdParams, body: deviceBody, response: { 200: deviceSchema, ...gbErrorResponses } },
  }, async (request) => {
    requireDevice(request.params.id);
    const updated = deps.devices.update(request.params.id, { ...patchOf(request.body), provisioned: true })!;
    deps.gb.settingsChanged(updated.id);
    return deviceDto(updated, deps.gb.session(updated.id));
  });

  app.delete<{ Params: { id: string } }>('/api/devices/:id', {
    schema: { tags: ['gb28181'], summary: 'Delete a device, its channels and live streams (it may register again)', params: deviceIdParams, response: { 200: { type: 'object', properties: { deleted: { type: 'string' } } }, ...gbErrorResponses } },
  }, async (request) => {
    const { id } = request.params;
    requireDevice(id);
    await deps.stopDevice(id, 'device deleted through the API');
    deps.gb.forget(id);
    deps.devices.delete(id);
    return { deleted: id };
  });

  app.post<{ Params: { id: string } }>('/api/devices/:id/catalog', {
    schema: {
      tags: ['gb28181'],
      summary: 'Query the catalog now and wait for the whole (multi-message) answer',
      params: deviceIdParams,
      response: {
        200: { type: 'object', properties: { deviceId: { type: 'string' }, sumNum: { type: 'integer' }, received: { type: 'integer' }, messages: { type: 'integer' }, complete: { type: 'boolean' }, channelCount: { type: 'integer' } } },
        ...gbErrorResponses,
      },
    },
  }, async (request) => {
    const { id } = request.params;
    requireDevice(id);
    const result = await deps.gb.refreshCatalog(id);
    return { deviceId: id, sumNum: result.sumNum, received: result.items.length, messages: result.messages, complete: result.complete, channelCount: deps.devices.get(id)?.channelCount ?? 0 };
  });

  app.get<{ Params: { id: string } }>('/api/devices/:id/status', {
    schema: {
      tags: ['gb28181'],
      summary: 'Ask the device for its DeviceStatus',
      params: deviceIdParams,
      response: { 200: { type: 'object', properties: { online: { type: 'boolean' }, status: { type: 'string' }, encode: { type: 'string' }, record: { type: 'string' }, deviceTime: { type: 'string' } } }, ...gbErrorResponses },
    },
  }, async (request) => {
    requireDevice(request.params.id);
    return deps.gb.deviceStatus(request.params.id);
  });

  app.get<{ Params: { id: string }; Querystring: ChannelQuery }>('/api/devices/:id/channels', {
    schema: {
      tags: ['gb28181'],
      summary: 'The catalog of a device: channels and tree nodes (civil codes, business groups)',
      params: deviceIdParams,
      querystring: { type: 'object', properties: { ...pageQuery, kind: { type: 'string', enum: ['civil', 'group', 'org', 'device'] }, includeGone: { type: 'boolean' } } },
      response: { 200: pageOf(channelSchema), ...gbErrorResponses },
    },
  }, async (request) => {
    requireDevice(request.params.id);
    const { page = 1, count = 100 } = request.query;
    const result = deps.channels.list({ ...request.query, deviceId: request.params.id });
    return { total: result.total, page, count, items: result.items.map(channelDto) };
  });

  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>('/api/devices/:id/sip-log', {
    schema: {
      tags: ['gb28181'],
      summary: 'The last SIP messages exchanged with the device (why it does not register or play)',
      params: deviceIdParams,
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000 } } },
      response: { 200: { type: 'object', properties: { deviceId: { type: 'string' }, entries: { type: 'array', items: sipLogEntrySchema } } }, ...gbErrorResponses },
    },
  }, async (request) => ({ deviceId: request.params.id, entries: deps.gb.sipLogOf(request.params.id, request.query.limit) }));
}
