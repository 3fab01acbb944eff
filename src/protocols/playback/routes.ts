import type { FastifyInstance } from 'fastify';
import type { PlaybackDeps } from './deps';
import { serveRecordingFile, type FileRequest } from './file-route';
import { refuseHttpRangeAudio, serveRangeAudioWs } from './range-audio';
import type { PlaybackFormat } from './output';
import { serveRangeHttp, serveRangeWs, type RangeRequest } from './range-route';
import { serveDays, serveTimeline, type TimelineRequest } from './timeline';
import { serveVodPlaylist, serveVodSegment, type VodRequest, type VodSegmentRequest } from './vod';

const params = { type: 'object', properties: { app: { type: 'string' }, stream: { type: 'string' } }, required: ['app', 'stream'] } as const;
const rangeQuery = {
  type: 'object',
  properties: {
    start: { type: 'string', description: 'ISO 8601 with an offset, or ms since the epoch' },
    end: { type: 'string', description: 'optional: to the end of what exists' },
    speed: { type: 'string', description: 'FLV/TS: real-time pacing factor 0.5 to 16 (default: as fast as the client reads)' },
    download: { type: 'string', description: '1: Content-Disposition attachment' },
  },
  required: ['start'],
} as const;

/**
 * Playback of recordings: time ranges as FLV/TS/MP4 (HTTP and WebSocket), HLS VOD, one segment
 * file with Range, and the timeline and days a playback bar needs.
 */
export function registerPlaybackRoutes(app: FastifyInstance, deps: PlaybackDeps): void {
  for (const format of ['flv', 'ts', 'mp4'] as PlaybackFormat[]) {
    app.route({
      method: 'GET',
      url: `/record/:app/:stream.${format}`,
      schema: {
        tags: ['recordings'],
        summary: `A recorded time range as one ${format.toUpperCase()} stream${format === 'mp4' ? ' (fragmented MP4)' : ' (the same URL over WebSocket)'}`,
        params,
        querystring: rangeQuery,
      },
      handler: (request, reply) => serveRangeHttp(request as RangeRequest, reply, deps, format),
      ...(format === 'mp4' ? {} : { wsHandler: (socket, request) => serveRangeWs(socket, request as RangeRequest, deps, format) }),
    });
  }
  const audioSink = deps.audioSink;
  if (audioSink) {
    app.route({
      method: 'GET',
      url: '/record/:app/:stream.g711',
      schema: {
        tags: ['recordings'],
        summary: "A recorded range's G.711 over WebSocket (the /ws-audio messages), from `at` ms into the range of the same start and end, with that range's dts; 1x only",
        params,
        querystring: {
          type: 'object',
          properties: {
            start: rangeQuery.properties.start,
            end: rangeQuery.properties.end,
            at: { type: 'string', description: 'ms into the range, on the timeline of its FLV/TS (default 0)' },
            speed: { type: 'string', description: '1 only: sound is muted at other speeds' },
          },
          required: ['start'],
        },
      },
      handler: refuseHttpRangeAudio,
      wsHandler: (socket, request) => serveRangeAudioWs(socket, request as RangeRequest, deps, audioSink),
    });
  }
  app.route({
    method: 'GET',
    url: '/record/:app/:stream/index.m3u8',
    schema: {
      tags: ['recordings'],
      summary: 'HLS VOD playlist of a recorded time range',
      params,
      querystring: { ...rangeQuery, properties: { start: rangeQuery.properties.start, end: rangeQuery.properties.end } },
    },
    handler: (request, reply) => serveVodPlaylist(request as VodRequest, reply, deps),
  });
  app.route({
    method: 'GET',
    url: '/record/:app/:stream/vod/:id.ts',
    schema: {
      tags: ['recordings'],
      summary: 'One segment of an HLS VOD playlist (remuxed to TS)',
      params: { type: 'object', properties: { ...params.properties, id: { type: 'string' } }, required: ['app', 'stream', 'id'] },
    },
    handler: (request, reply) => serveVodSegment(request as VodSegmentRequest, reply, deps),
  });
  app.route({
    method: 'GET',
    url: '/api/recordings/:id/file',
    schema: {
      tags: ['recordings'],
      summary: 'One recorded segment file as it is (Range, ETag, Last-Modified)',
      params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    },
    handler: (request, reply) => serveRecordingFile(request as FileRequest, reply, deps),
  });
  app.route({
    method: 'GET',
    url: '/api/recordings/timeline',
    schema: {
      tags: ['recordings'],
      summary: 'Covered intervals of a stream (adjacent segments merged)',
      querystring: { type: 'object', properties: { path: { type: 'string' }, start: { type: 'string' }, end: { type: 'string' } }, required: ['path', 'start', 'end'] },
    },
    handler: (request, reply) => serveTimeline(request as TimelineRequest, reply, deps),
  });
  app.route({
    method: 'GET',
    url: '/api/recordings/days',
    schema: {
      tags: ['recordings'],
      summary: 'Days (record.timezone) of a month that have recordings',
      querystring: { type: 'object', properties: { path: { type: 'string' }, month: { type: 'string' } }, required: ['path', 'month'] },
    },
    handler: (request, reply) => serveDays(request as TimelineRequest, reply, deps),
  });
}
