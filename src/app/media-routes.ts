import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/log';
import type { GatewayConfig } from '../config/schema';
import { FLV_TAG_FEEDS, type FlvTagCache } from '../formats/flv/viewer-muxer';
import type { FeedKey } from '../core/sink';
import type { Registry } from '../hub/registry';
import { serveHttpFlv, type StreamRequest } from '../protocols/http-flv/route';
import { serveWsFlv } from '../protocols/ws-flv/route';
import { refuseHttpAudio, serveWsAudio, type AudioRequest } from '../protocols/ws-audio/route';
import { TsFeeds } from '../formats/mpegts/ts-feeds';
import { serveHttpTs, serveWsTs, type TsStreamRequest } from '../protocols/http-ts/route';
import { HlsServer } from '../protocols/hls/hls-server';
import { serveHlsPlaylist, serveHlsSegment } from '../protocols/hls/route';
import { corsOrigins } from './http-server';
import type { Limits } from './limits';
import { tsFeedOptions } from './registry-options';

type HevcMode = GatewayConfig['http']['flvHevcMode'];

/**
 * CORS lines of the raw (hijacked) HTTP-FLV and HTTP-TS answers: written before the request's
 * Origin is known, so only a single configured origin can be named. (WebSocket needs no CORS:
 * admission guards it; HLS answers go through fastify's CORS.)
 */
function mediaCorsHeaders(config: GatewayConfig['http']): string {
  const origins = corsOrigins(config);
  return origins.length === 1 ? `Access-Control-Allow-Origin: ${origins[0]}\r\nVary: Origin\r\n` : '';
}

/**
 * Media URLs on the HTTP port: `/{app}/{stream}.flv` as HTTP-FLV, and the same path over
 * WebSocket. `?hevc=legacy|enhanced` picks the H.265 FLV flavour per viewer.
 */
export function registerMediaRoutes(app: FastifyInstance, registry: Registry, config: GatewayConfig['http'], log: Logger): void {
  const tagFeed = (query: Record<string, string | undefined>): FeedKey<FlvTagCache> => {
    const mode: HevcMode = query.hevc === 'legacy' || query.hevc === 'enhanced' ? query.hevc : config.flvHevcMode;
    return FLV_TAG_FEEDS[mode];
  };
  const extraHeaders = mediaCorsHeaders(config);
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
    handler: (request, reply) => serveHttpFlv(request as StreamRequest, reply, { registry, log: flvLog, extraHeaders, tagFeed, noDelay: config.flvNoDelay }),
    wsHandler: (socket, request) => serveWsFlv(socket, request as StreamRequest, { registry, log: wsLog, tagFeed, noDelay: config.flvNoDelay }),
  });
  const audioLog = log.child({ component: 'ws-audio' });
  app.route({
    method: 'GET',
    url: '/ws-audio/:app/:stream',
    schema: {
      tags: ['media'],
      summary: "A stream's G.711 audio over WebSocket (one binary message per frame: kind, law, dts in 90 kHz ticks, samples), for pages that decode it",
      params: { type: 'object', properties: { app: { type: 'string' }, stream: { type: 'string' } }, required: ['app', 'stream'] },
    },
    handler: refuseHttpAudio,
    wsHandler: (socket, request) => serveWsAudio(socket, request as AudioRequest, { registry, log: audioLog }),
  });
}

/**
 * HTTP-TS (`/{app}/{stream}.ts`, the same path over WebSocket) and HLS
 * (`/{app}/{stream}/index.m3u8` and its `{sequence}.ts?session=` segments), all fed by one TS mux
 * per stream (hub rule 9). `close()` ends every HLS session and TS feed.
 */
export function registerTsRoutes(
  app: FastifyInstance,
  registry: Registry,
  config: GatewayConfig,
  log: Logger,
  feeds: TsFeeds = new TsFeeds(registry, log.child({ component: 'ts-feed' }), tsFeedOptions(config)),
  limits?: Limits,
): { feeds: TsFeeds; hls: HlsServer; close(reason?: string): void } {
  const refusals = limits && {
    'hls.maxSessions': limits.counter('hls.maxSessions'),
    'hls.maxSessionsPerStream': limits.counter('hls.maxSessionsPerStream'),
    'hls.maxSessionsPerClient': limits.counter('hls.maxSessionsPerClient'),
  };
  const hls = new HlsServer(
    { registry, feeds, log: log.child({ component: 'hls' }), refused: refusals && ((limit, details) => refusals[limit](details)) },
    {
      segmentSeconds: config.hls.segmentSeconds,
      windowSegments: config.hls.windowSegments,
      closeAfterMs: config.hls.closeAfter * 1000,
      playlistWaitMs: config.hls.playlistWait * 1000,
      alwaysRemux: config.hls.alwaysRemux,
      maxSessionsPerStream: config.hls.maxSessionsPerStream,
      maxSessionsPerClient: config.hls.maxSessionsPerClient,
    },
  );
  const ts = {
    registry,
    feeds,
    extraHeaders: mediaCorsHeaders(config.http),
    maxPendingBytes: config.hub.viewer.maxPendingBytes,
    maxLagMs: config.hub.viewer.maxLag * 1000,
    burstSeconds: config.http.tsBurstSeconds,
  };
  const httpTs = { ...ts, log: log.child({ component: 'http-ts' }) };
  const wsTs = { ...ts, log: log.child({ component: 'ws-ts' }) };
  const params = { type: 'object', properties: { app: { type: 'string' }, stream: { type: 'string' } }, required: ['app', 'stream'] } as const;
  app.route({
    method: 'GET',
    url: '/:app/:stream.ts',
    schema: { tags: ['media'], summary: 'Live MPEG-TS (HTTP-TS; the same URL over WebSocket sends one message per frame)', params },
    handler: (request, reply) => serveHttpTs(request as TsStreamRequest, reply, httpTs),
    wsHandler: (socket, request) => serveWsTs(socket, request as TsStreamRequest, wsTs),
  });
  const hlsRoute = { hls, log: log.child({ component: 'hls' }), segmentMaxAge: Math.ceil(config.hls.segmentSeconds * config.hls.windowSegments) };
  const session = { type: 'object', properties: { session: { type: 'string' } } } as const;
  app.route({
    method: 'GET',
    url: '/:app/:stream/index.m3u8',
    schema: { tags: ['media'], summary: 'Live HLS: a master playlist with a new session, or with ?session= the live media playlist', params, querystring: session },
    handler: (request, reply) => serveHlsPlaylist(request as Parameters<typeof serveHlsPlaylist>[0], reply, hlsRoute),
  });
  app.route({
    method: 'GET',
    url: '/:app/:stream/:segment.ts',
    schema: {
      tags: ['media'],
      summary: 'One HLS segment (MPEG-TS) of a session',
      params: { type: 'object', properties: { ...params.properties, segment: { type: 'string' } }, required: ['app', 'stream', 'segment'] },
      querystring: session,
    },
    handler: (request, reply) => serveHlsSegment(request as Parameters<typeof serveHlsSegment>[0], reply, hlsRoute),
  });
  return {
    feeds,
    hls,
    close(reason = 'shutting down') {
      hls.close(reason);
      feeds.close(reason);
    },
  };
}
