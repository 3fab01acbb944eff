import type { FastifyInstance } from 'fastify';
import type { GbChannel } from '../core/gb28181';
import type { ChannelQuery } from '../../storage/repos/channels';
import type { ChannelDto, Page } from './dto';
import { channelDto } from './gb-dto';
import { channelSchema, gbErrorResponses, pageOf, pageQuery } from './gb-schemas';

export interface ChannelsApiDeps {
  channels: { list(query: ChannelQuery & { deviceId?: string }): { total: number; items: GbChannel[] } };
}

/** /api/channels: every device's channels (online = the channel and its device online). */
export async function channelsApi(app: FastifyInstance, deps: ChannelsApiDeps): Promise<void> {
  app.get<{ Querystring: ChannelQuery }>(
    '/api/channels',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Channels of all devices, paged; q searches id, name, address',
        querystring: { type: 'object', properties: { ...pageQuery, kind: { type: 'string', enum: ['civil', 'group', 'org', 'device'] } } },
        response: { 200: pageOf(channelSchema), ...gbErrorResponses },
      },
    },
    async (request): Promise<Page<ChannelDto>> => {
      const { page = 1, count = 100 } = request.query;
      const result = deps.channels.list({ kind: 'device', ...request.query });
      return { total: result.total, page, count, items: result.items.map(channelDto) };
    },
  );
}
