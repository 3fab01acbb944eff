import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import type { CatalogResult } from '../../sip/gb28181/catalog';
import type { DeviceStatus } from '../../sip/gb28181/commands';
import type { DeviceSession } from '../../sip/gb28181/sessions';
import type { SipLogEntry } from '../../sip/gb28181/sip-log';
import type { GbChannel, GbDevice, GbDevicePatch } from '../core/gb28181';
import type { DeviceQuery } from '../../storage/repos/devices';
import type { ChannelQuery } from '../../storage/repos/channels';
import { deviceQueriesApi } from './device-queries';
import type { DeviceDto, DeviceInput, Page } from './dto';
import { devicePatchOf, deviceDto } from './gb-dto';
import { deviceBody, deviceIdParams, deviceSchema, gbErrorResponses, pageOf, pageQuery } from './gb-schemas';

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

/** /api/devices: GB28181 devices (wvp-like shapes); what is asked of a device is in device-queries.ts. */
export async function devicesApi(app: FastifyInstance, deps: DevicesApiDeps): Promise<void> {
  const requireDevice = (id: string): GbDevice => {
    const record = deps.devices.get(id);
    if (!record) throw new GatewayError('DEVICE_NOT_FOUND', `device ${id} is not known`);
    return record;
  };

  app.get<{ Querystring: DeviceQuery }>(
    '/api/devices',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Devices, paged; q searches id, name, vendor, model, address',
        querystring: { type: 'object', properties: pageQuery },
        response: { 200: pageOf(deviceSchema), ...gbErrorResponses },
      },
    },
    async (request): Promise<Page<DeviceDto>> => {
      const { page = 1, count = 100 } = request.query;
      const result = deps.devices.list(request.query);
      return { total: result.total, page, count, items: result.items.map((d) => deviceDto(d, deps.gb.session(d.id))) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/devices/:id',
    {
      schema: { tags: ['gb28181'], summary: 'One device with its live registration', params: deviceIdParams, response: { 200: deviceSchema, ...gbErrorResponses } },
    },
    async (request): Promise<DeviceDto> => deviceDto(requireDevice(request.params.id), deps.gb.session(request.params.id)),
  );

  app.post<{ Body: DeviceInput & { id: string } }>(
    '/api/devices',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Provision a device before it registers (its password, no-auth, stream mode, charset)',
        body: { ...deviceBody, properties: { ...deviceBody.properties, id: { type: 'string', pattern: '^\\d{20}$' } }, required: ['id'] },
        response: { 201: deviceSchema, ...gbErrorResponses },
      },
    },
    async (request, reply): Promise<DeviceDto> => {
      const created = deps.devices.create(request.body.id, { ...devicePatchOf(request.body), provisioned: true });
      if (!created) throw new GatewayError('BAD_REQUEST', `device ${request.body.id} already exists: change it with PATCH /api/devices/${request.body.id}`);
      void reply.code(201);
      return deviceDto(created, deps.gb.session(created.id));
    },
  );

  app.patch<{ Params: { id: string }; Body: DeviceInput }>(
    '/api/devices/:id',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Change a device (the same fields as POST)',
        params: deviceIdParams,
        body: deviceBody,
        response: { 200: deviceSchema, ...gbErrorResponses },
      },
    },
    async (request): Promise<DeviceDto> => {
      requireDevice(request.params.id);
      const updated = deps.devices.update(request.params.id, { ...devicePatchOf(request.body), provisioned: true })!;
      deps.gb.settingsChanged(updated.id);
      return deviceDto(updated, deps.gb.session(updated.id));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/devices/:id',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Delete a device, its channels and live streams (it may register again)',
        params: deviceIdParams,
        response: { 200: { type: 'object', properties: { deleted: { type: 'string' } } }, ...gbErrorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      requireDevice(id);
      await deps.stopDevice(id, 'device deleted through the API');
      deps.gb.forget(id);
      deps.devices.delete(id);
      return { deleted: id };
    },
  );

  await deviceQueriesApi(app, deps, requireDevice);
}
