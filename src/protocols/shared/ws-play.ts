import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { AdmissionRequest } from '../../core/admission';
import { errorBody } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Sink, TrackSelector } from '../../core/sink';
import { playRequest, type ParsedQuery } from './admission';
import { closeWebSocket, remoteOf, wsCloseCodeOf } from './sockets';

/** What a WebSocket play route needs of the hub (the Registry; structural, as shared knows no hub). */
export interface WsPlayHub {
  admission: { admit(request: AdmissionRequest): Promise<unknown> };
  subscribe(path: string, sink: Sink, options: { signal: AbortSignal; tracks?: TrackSelector }): Promise<{ close(reason?: string): void }>;
}

export interface WsPlayRoute {
  hub: WsPlayHub;
  log: Logger;
  /** The admission protocol and the log's name (`ws-flv`, `ws-audio`). */
  protocol: string;
  /** What the peer is called in its close reason and logs (`viewer`, `listener`). */
  peer: string;
  tracks?: TrackSelector;
}

/** The upgraded request of a `/{...}/{app}/{stream}` WebSocket route. */
export interface WsPlayRequest {
  params: { app: string; stream: string };
  query: ParsedQuery;
  socket: Socket;
}

/**
 * One WebSocket viewer: admission (`play`), then a subscription of `sink` that ends with the
 * socket. A refusal closes with `wsCloseCodeOf` (4401, 4403, 1013, 4404 not found, 4502 source
 * failed) and the message.
 */
export function serveWsPlay(socket: WebSocket, request: WsPlayRequest, makeSink: (remote: string) => Sink, route: WsPlayRoute): void {
  const path = `${request.params.app}/${request.params.stream}`;
  const remote = remoteOf(request.socket);
  const aborted = new AbortController();
  socket.on('error', () => aborted.abort());
  socket.once('close', () => aborted.abort());
  const sink = makeSink(remote);
  const reason = `${route.peer} disconnected`;
  route.hub.admission
    .admit(playRequest(route.protocol, path, remote, request.query))
    .then(() => route.hub.subscribe(path, sink, { signal: aborted.signal, ...(route.tracks ? { tracks: route.tracks } : {}) }))
    .then(
      (subscription) => {
        if (aborted.signal.aborted) subscription.close(reason);
        else aborted.signal.addEventListener('abort', () => subscription.close(reason), { once: true });
      },
      (err: unknown) => {
        route.log.debug({ path, remote, err: errorBody(err) }, `${route.protocol} ${route.peer} refused`);
        closeWebSocket(socket, wsCloseCodeOf(err), errorBody(err).message);
      },
    );
}
