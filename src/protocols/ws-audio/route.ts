import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from '../../core/log';
import type { Registry } from '../../hub/registry';
import { serveWsPlay } from '../shared/ws-play';
import { G711_TRACKS, WsAudioSink } from './audio-sink';

export interface WsAudioDeps {
  registry: Registry;
  log: Logger;
}

export type AudioRequest = FastifyRequest<{ Params: { app: string; stream: string }; Querystring: Record<string, string | undefined> }>;

/**
 * `/ws-audio/{app}/{stream}` over WebSocket: the stream's G.711 audio beside its video, for a
 * page that decodes it (browsers' FLV players cannot). The same play admission as every play
 * route (protocol `ws-audio`); refusals close with `wsCloseCodeOf`, a stream without G.711 with
 * 4415.
 */
export function serveWsAudio(socket: WebSocket, request: AudioRequest, deps: WsAudioDeps): void {
  const route = { hub: deps.registry, log: deps.log, protocol: 'ws-audio', peer: 'listener', tracks: G711_TRACKS };
  serveWsPlay(socket, request, (remote) => new WsAudioSink(socket, request.raw.socket, remote), route);
}

/** A plain GET of the audio feed: it is WebSocket only. */
export async function refuseHttpAudio(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await reply.code(426).header('upgrade', 'websocket').send({ code: 'UPGRADE_REQUIRED', message: 'the audio feed is WebSocket only: ws://HOST/ws-audio/{app}/{stream}' });
}
