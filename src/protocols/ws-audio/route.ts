import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { errorBody } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Registry } from '../../hub/registry';
import { closeWebSocket, remoteOf, wsCloseCodeOf } from '../shared/sockets';
import { playRequest } from '../shared/admission';
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
  const path = `${request.params.app}/${request.params.stream}`;
  const remote = remoteOf(request.socket);
  const aborted = new AbortController();
  socket.on('error', () => aborted.abort());
  socket.once('close', () => aborted.abort());
  const sink = new WsAudioSink(socket, request.raw.socket, remote);
  deps.registry.admission
    .admit(playRequest('ws-audio', path, remote, request.query))
    .then(() => deps.registry.subscribe(path, sink, { signal: aborted.signal, tracks: G711_TRACKS }))
    .then(
      (subscription) => {
        if (aborted.signal.aborted) subscription.close('listener disconnected');
        else aborted.signal.addEventListener('abort', () => subscription.close('listener disconnected'), { once: true });
      },
      (err: unknown) => {
        deps.log.debug({ path, remote, err: errorBody(err) }, 'ws-audio listener refused');
        closeWebSocket(socket, wsCloseCodeOf(err), errorBody(err).message);
      },
    );
}

/** A plain GET of the audio feed: it is WebSocket only. */
export async function refuseHttpAudio(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await reply.code(426).header('upgrade', 'websocket').send({ code: 'UPGRADE_REQUIRED', message: 'the audio feed is WebSocket only: ws://HOST/ws-audio/{app}/{stream}' });
}
