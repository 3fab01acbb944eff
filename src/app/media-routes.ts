import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/log';
import type { GatewayConfig } from '../config/schema';
import { FlvBodyCache } from '../formats/flv/viewer-muxer';
import type { Registry } from '../hub/registry';
import { serveHttpFlv, type StreamRequest } from '../protocols/http-flv/route';
import { serveWsFlv } from '../protocols/ws-flv/route';

type HevcMode = GatewayConfig['http']['flvHevcMode'];

/**
 * Media URLs on the HTTP port: `/{app}/{stream}.flv` as HTTP-FLV, and the same path over
 * WebSocket. `?hevc=legacy|enhanced` picks the H.265 FLV flavour per viewer.
 */
export function registerMediaRoutes(app: FastifyInstance, registry: Registry, config: GatewayConfig['http'], log: Logger): void {
  const bodyCache = (path: string, query: Record<string, string | undefined>): FlvBodyCache => {
    const mode: HevcMode = query.hevc === 'legacy' || query.hevc === 'enhanced' ? query.hevc : config.flvHevcMode;
    return registry.shared(path, `flv-bodies:${mode}`, () => new FlvBodyCache(mode)) ?? new FlvBodyCache(mode);
  };
  const extraHeaders = config.cors ? 'Access-Control-Allow-Origin: *\r\n' : '';
  const flvLog = log.child({ component: 'http-flv' });
  const wsLog = log.child({ component: 'ws-flv' });
  app.route({
    method: 'GET',
    url: '/:app/:stream.flv',
    schema: {
      tags: ['media'],
      summary: 'Live FLV (HTTP-FLV; the same URL over WebSocket is WebSocket-FLV)',
      params: {
        type: 'object',
        properties: { app: { type: 'string' }, stream: { type: 'string' } },
        required: ['app', 'stream'],
      },
      querystring: { type: 'object', properties: { hevc: { type: 'string', enum: ['enhanced', 'legacy'] } } },
    },
    handler: (request, reply) => serveHttpFlv(request as StreamRequest, reply, { registry, log: flvLog, extraHeaders, bodyCache }),
    wsHandler: (socket, request) => serveWsFlv(socket, request as StreamRequest, { registry, log: wsLog, bodyCache }),
  });
}
