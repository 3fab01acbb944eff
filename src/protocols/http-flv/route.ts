import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, httpStatusOf } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { FlvTagCache } from '../../formats/flv/viewer-muxer';
import type { FeedKey } from '../../core/sink';
import type { Registry } from '../../hub/registry';
import { HttpFlvSink } from './http-flv-sink';
import { remoteOf } from '../shared/sockets';
import { playRequest } from '../shared/admission';

export interface FlvRouteDeps {
  registry: Registry;
  log: Logger;
  /** Extra response header lines (CORS), each ending in CRLF. */
  extraHeaders: string;
  /** TCP_NODELAY on the viewer's socket (http.flvNoDelay). */
  noDelay: boolean;
  /** The stream's FLV tag feed for a viewer's query (`?hevc=legacy`). */
  tagFeed: (query: Record<string, string | undefined>) => FeedKey<FlvTagCache>;
}

export type StreamRequest = FastifyRequest<{ Params: { app: string; stream: string }; Querystring: Record<string, string | undefined> }>;

/** `GET /{app}/{stream}.flv`: waits (bounded) for the stream, then streams FLV until either side ends. */
export async function serveHttpFlv(request: StreamRequest, reply: FastifyReply, deps: FlvRouteDeps): Promise<void> {
  const path = `${request.params.app}/${request.params.stream}`;
  const socket = request.raw.socket;
  const remote = remoteOf(socket);
  const aborted = new AbortController();
  const onClose = (): void => aborted.abort();
  socket.once('close', onClose);
  const sink = new HttpFlvSink(
    socket,
    (info) => info.feed(deps.tagFeed(request.query)),
    deps.extraHeaders,
    remote,
    () => {
      reply.hijack();
      socket.setNoDelay(deps.noDelay);
    },
  );
  try {
    await deps.registry.admission.admit(playRequest('http-flv', path, remote, request.query));
    const subscription = await deps.registry.subscribe(path, sink, { signal: aborted.signal });
    socket.off('close', onClose);
    const end = (): void => subscription.close('viewer disconnected');
    socket.once('close', end);
    socket.once('error', end);
    if (socket.destroyed) end();
  } catch (err) {
    socket.off('close', onClose);
    if (reply.sent || socket.destroyed) return;
    deps.log.debug({ path, remote, err: errorBody(err) }, 'http-flv viewer refused');
    await reply.code(httpStatusOf(err)).send(errorBody(err));
  }
}
