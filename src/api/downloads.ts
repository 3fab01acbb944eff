import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import { parseApiTime } from './gb-control';
import { gbErrorResponses } from './gb-schemas';

export type DownloadStateDto = 'starting' | 'downloading' | 'complete' | 'cancelled' | 'failed';

/** A GB28181 download (s=Download) as the API shows it. Times are the device's (the clip's own clock). */
export interface DownloadDto {
  id: number;
  deviceId: string;
  channelId: string;
  /** The recording path the clip is written under (`rtp/{deviceId}_{channelId}_download`). */
  path: string;
  /** The range asked of the device. */
  start: string;
  end: string;
  startMs: number;
  endMs: number;
  /** `a=downloadspeed`: times real time. */
  speed: number;
  state: DownloadStateDto;
  /** Why it failed or was cancelled (with how far it got). */
  error: string | null;
  /** Media received over the range, 0-100 (100 only once complete). */
  percent: number;
  mediaMs: number;
  bytes: number;
  /** The file size the device announced (`a=filesize`), when it did. */
  fileSize: number | null;
  /** Media time per wall time since the first media: about `speed` when the device keeps it. */
  achievedSpeed: number | null;
  /** Its segments in GET /api/recordings. */
  recordingIds: number[];
  /** The downloaded clip through the playback API, by the device's time range. */
  playback: string;
  createdAt: string;
  endedAt: string | null;
}

/** POST /api/downloads, after parsing. */
export interface DownloadRequest {
  deviceId: string;
  channelId: string;
  startMs: number;
  endMs: number;
  speed?: number;
}

export interface DownloadsService {
  start(request: DownloadRequest): Promise<DownloadDto>;
  get(id: number): DownloadDto | undefined;
  find(query: { deviceId?: string; state?: DownloadStateDto; limit?: number; offset?: number }): { total: number; items: DownloadDto[] };
  /** undefined: not running. */
  cancel(id: number): Promise<DownloadDto | undefined>;
  /** Forgets a finished one (its recordings stay). */
  remove(id: number): boolean;
}

const STATES: readonly DownloadStateDto[] = ['starting', 'downloading', 'complete', 'cancelled', 'failed'];
const idParams = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;

function notFound(id: number): GatewayError {
  return new GatewayError('NOT_FOUND', `no download ${id}`);
}

/** /api/downloads: a device's recording becomes a recording of the gateway. Spec: GB/T 28181-2016 §9.9 */
export async function downloadsApi(app: FastifyInstance, deps: { downloads: DownloadsService; maxSpeed: number }): Promise<void> {
  app.post<{ Body: { deviceId: string; channelId: string; start: string | number; end: string | number; speed?: number } }>(
    '/api/downloads',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Download a range of a channel from the device (s=Download) into the recordings; answers once its media flows',
        body: {
          type: 'object',
          properties: {
            deviceId: { type: 'string', pattern: '^\\d{20}$' },
            channelId: { type: 'string', pattern: '^[0-9A-Za-z]{10,32}$' },
            start: {
              anyOf: [
                { type: 'integer', minimum: 0 },
                { type: 'string', maxLength: 40 },
              ],
              description: 'Unix seconds, ms or ISO 8601',
            },
            end: {
              anyOf: [
                { type: 'integer', minimum: 0 },
                { type: 'string', maxLength: 40 },
              ],
              description: 'Unix seconds, ms or ISO 8601',
            },
            speed: { type: 'integer', minimum: 1, maximum: deps.maxSpeed, default: 1 },
          },
          required: ['deviceId', 'channelId', 'start', 'end'],
          additionalProperties: false,
        },
        response: { ...gbErrorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const download = await deps.downloads.start({
        deviceId: body.deviceId,
        channelId: body.channelId,
        startMs: parseApiTime(String(body.start), 'start'),
        endMs: parseApiTime(String(body.end), 'end'),
        ...(body.speed !== undefined ? { speed: body.speed } : {}),
      });
      return reply.code(201).send(download);
    },
  );

  app.get<{ Querystring: { device?: string; state?: DownloadStateDto; limit?: number; offset?: number } }>(
    '/api/downloads',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Downloads, newest first, with their progress',
        querystring: {
          type: 'object',
          properties: {
            device: { type: 'string', pattern: '^\\d{20}$' },
            state: { type: 'string', enum: [...STATES] },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 },
          },
        },
        response: { ...gbErrorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      return deps.downloads.find({ ...(q.device ? { deviceId: q.device } : {}), ...(q.state ? { state: q.state } : {}), limit: q.limit ?? 100, offset: q.offset ?? 0 });
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/downloads/:id',
    { schema: { tags: ['gb28181'], summary: 'One download and its progress', params: idParams, response: { ...gbErrorResponses } } },
    async (request) => deps.downloads.get(request.params.id) ?? Promise.reject(notFound(request.params.id)),
  );

  app.delete<{ Params: { id: number } }>(
    '/api/downloads/:id',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Cancel a running download (BYE; what came stays, marked cancelled), or forget a finished one (204; its recordings stay)',
        params: idParams,
        response: { ...gbErrorResponses },
      },
    },
    async (request, reply) => {
      const cancelled = await deps.downloads.cancel(request.params.id);
      if (cancelled) return cancelled;
      if (!deps.downloads.remove(request.params.id)) throw notFound(request.params.id);
      return reply.code(204).send();
    },
  );
}
