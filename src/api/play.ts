import type { FastifyInstance } from 'fastify';
import type { Track } from '../core/track';
import type { StreamMode } from '../core/gb28181';
import { gbErrorResponses, inviteSchema, playParams, streamUrlsSchema } from './gb-schemas';

/** A live (or recently ended) INVITE pull as GET /api/invites shows it. */
export interface InviteDto {
  path: string;
  deviceId: string;
  channelId: string;
  state: 'inviting' | 'waiting-media' | 'live' | 'ended';
  mode: StreamMode;
  ssrc: string;
  callId?: string;
  localPort?: number;
  deviceMedia?: string;
  startedAt: number;
  endReason?: string;
  media?: { packets: number; bytes: number; peer?: string; ssrcMismatches?: number; lost?: number };
}

export interface PlayApiDeps {
  bridge: {
    /** Starts the channel (INVITE) and resolves with its hub path once it plays. */
    play(deviceId: string, channelId: string): Promise<string>;
    stop(deviceId: string, channelId: string): Promise<boolean>;
    invites(): InviteDto[];
  };
  /** The URLs of every protocol for a path, with the host the client used. */
  urls(path: string, host: string): { rtmp: string; flv: string; ws_flv: string; hls: string; ts: string };
  tracks(path: string): readonly Track[];
}

/** /api/play and /api/invites: start and stop live GB28181 video, see the dialogs. */
export async function playApi(app: FastifyInstance, deps: PlayApiDeps): Promise<void> {
  app.post<{ Params: { deviceId: string; channelId: string } }>(
    '/api/play/:deviceId/:channelId',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'INVITE a channel and return its URLs once it plays (it then lives hub.closeAfter without viewers)',
        params: playParams,
        response: { 200: streamUrlsSchema, ...gbErrorResponses },
      },
    },
    async (request) => {
      const { deviceId, channelId } = request.params;
      const path = await deps.bridge.play(deviceId, channelId);
      const [app_, stream] = path.split('/');
      return { app: app_, stream, path, deviceId, channelId, ...deps.urls(path, request.hostname), tracks: deps.tracks(path) };
    },
  );

  app.post<{ Params: { deviceId: string; channelId: string } }>(
    '/api/play/:deviceId/:channelId/stop',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Stop the live pull now (BYE) and end the stream for its viewers',
        params: playParams,
        response: { 200: { type: 'object', properties: { stopped: { type: 'string' } } }, ...gbErrorResponses },
      },
    },
    async (request) => {
      const { deviceId, channelId } = request.params;
      await deps.bridge.stop(deviceId, channelId);
      return { stopped: `rtp/${deviceId}_${channelId}` };
    },
  );

  app.get(
    '/api/invites',
    {
      schema: {
        tags: ['gb28181'],
        summary: 'Live INVITE dialogs (SSRC, stream mode, device media address, packets) and the last ended ones',
        response: { 200: { type: 'object', properties: { invites: { type: 'array', items: inviteSchema } } } },
      },
    },
    async () => ({ invites: deps.bridge.invites() }),
  );
}
