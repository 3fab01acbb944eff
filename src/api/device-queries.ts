import type { FastifyInstance } from 'fastify';
import type { GbDevice } from '../core/gb28181';
import type { ChannelQuery } from '../../storage/repos/channels';
import type { DevicesApiDeps } from './devices';
import type { CatalogRefreshDto, ChannelDto, Page } from './dto';
import { channelDto } from './gb-dto';
import { channelSchema, deviceIdParams, gbErrorResponses, pageOf, pageQuery, sipLogEntrySchema } from './gb-schemas';

/** /api/devices/:id/...: its catalog (refresh, channels), DeviceStatus and SIP log. */
export async function deviceQueriesApi(app: FastifyInstance, deps: DevicesApiDeps, requireDevice: (id: string) => GbDevice): Promise<void> {
  app.post<{ Params: { id: string } }>(
    '/api/devices/:id/catalog',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Query the catalog now and wait for the whole (multi-message) answer',
        params: deviceIdParams,
        response: {
          200: {
            type: 'object',
            properties: {
              deviceId: { type: 'string' },
              sumNum: { type: 'integer' },
              received: { type: 'integer' },
              messages: { type: 'integer' },
              complete: { type: 'boolean' },
              channelCount: { type: 'integer' },
            },
          },
          ...gbErrorResponses,
        },
      },
    },
    async (request): Promise<CatalogRefreshDto> => {
      const { id } = request.params;
      requireDevice(id);
      const result = await deps.gb.refreshCatalog(id);
      return {
        deviceId: id,
        ...(result.sumNum !== undefined ? { sumNum: result.sumNum } : {}),
        received: result.items.length,
        messages: result.messages,
        complete: result.complete,
        channelCount: deps.devices.get(id)?.channelCount ?? 0,
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/devices/:id/status',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Ask the device for its DeviceStatus',
        params: deviceIdParams,
        response: {
          200: {
            type: 'object',
            properties: { online: { type: 'boolean' }, status: { type: 'string' }, encode: { type: 'string' }, record: { type: 'string' }, deviceTime: { type: 'string' } },
          },
          ...gbErrorResponses,
        },
      },
    },
    async (request) => {
      requireDevice(request.params.id);
      return deps.gb.deviceStatus(request.params.id);
    },
  );

  app.get<{ Params: { id: string }; Querystring: ChannelQuery }>(
    '/api/devices/:id/channels',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'The catalog of a device: channels and tree nodes (civil codes, business groups)',
        params: deviceIdParams,
        querystring: { type: 'object', properties: { ...pageQuery, kind: { type: 'string', enum: ['civil', 'group', 'org', 'device'] }, includeGone: { type: 'boolean' } } },
        response: { 200: pageOf(channelSchema), ...gbErrorResponses },
      },
    },
    async (request): Promise<Page<ChannelDto>> => {
      requireDevice(request.params.id);
      const { page = 1, count = 100 } = request.query;
      const result = deps.channels.list({ ...request.query, deviceId: request.params.id });
      return { total: result.total, page, count, items: result.items.map(channelDto) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
    '/api/devices/:id/sip-log',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'The last SIP messages exchanged with the device (why it does not register or play)',
        params: deviceIdParams,
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000 } } },
        response: { 200: { type: 'object', properties: { deviceId: { type: 'string' }, entries: { type: 'array', items: sipLogEntrySchema } } }, ...gbErrorResponses },
      },
    },
    async (request) => ({ deviceId: request.params.id, entries: deps.gb.sipLogOf(request.params.id, request.query.limit) }),
  );
}
