import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errorBody, httpStatusOf } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { HlsServer, HlsViewer } from './hls-server';
import { remoteOf } from '../shared/sockets';
import { admissionQuery } from '../shared/admission';

export interface HlsRouteDeps {
  hls: HlsServer;
  log: Logger;
  /** Seconds a segment may be cached (its URL never names other bytes while it is listed). */
  segmentMaxAge: number;
}

type PlaylistRequest = FastifyRequest<{ Params: { app: string; stream: string }; Querystring: { session?: string } & Record<string, string | undefined> }>;
type SegmentRequest = FastifyRequest<{ Params: { app: string; stream: string; segment: string }; Querystring: { session?: string } & Record<string, string | undefined> }>;

function viewerOf(request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>): HlsViewer {
  return { remote: remoteOf(request.raw.socket), query: admissionQuery(request.query, ['session']) };
}

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const MAX_SEQUENCE_DIGITS = 15;

async function fail(reply: FastifyReply, err: unknown, log: Logger, what: string): Promise<void> {
  if (reply.sent) return;
  log.debug({ what, err: errorBody(err) }, 'hls request refused');
  await reply.code(httpStatusOf(err)).header('Cache-Control', 'no-cache').send(errorBody(err));
}

/**
 * `GET /{app}/{stream}/index.m3u8`: without `?session=` a master playlist naming a new session's
 * media playlist; with it, the live media playlist. Live playlists are never cached.
 */
export async function serveHlsPlaylist(request: PlaylistRequest, reply: FastifyReply, deps: HlsRouteDeps): Promise<void> {
  const path = `${request.params.app}/${request.params.stream}`;
  const viewer = viewerOf(request);
  const aborted = new AbortController();
  const onClose = (): void => aborted.abort();
  request.raw.once('close', onClose);
  try {
    const session = request.query.session;
    const body = session === undefined ? await deps.hls.masterPlaylist(path, viewer) : await deps.hls.mediaPlaylist(path, session, viewer, aborted.signal);
    await reply.code(200).header('Content-Type', PLAYLIST_TYPE).header('Cache-Control', 'no-cache').send(body);
  } catch (err) {
    await fail(reply, err, deps.log, `${path} playlist`);
  } finally {
    request.raw.off('close', onClose);
  }
}

/** `GET /{app}/{stream}/{sequence}.ts?session=ID`: one segment from memory. */
export async function serveHlsSegment(request: SegmentRequest, reply: FastifyReply, deps: HlsRouteDeps): Promise<void> {
  const path = `${request.params.app}/${request.params.stream}`;
  try {
    const name = request.params.segment;
    if (!new RegExp(`^\\d{1,${MAX_SEQUENCE_DIGITS}}$`).test(name)) throw new GatewayError('BAD_REQUEST', `segment name "${name.slice(0, 40)}" is not a sequence number`);
    const session = request.query.session;
    if (session === undefined) throw new GatewayError('BAD_REQUEST', 'segment URL without ?session=');
    const data = await deps.hls.segment(path, Number(name), session, viewerOf(request));
    await reply.code(200).header('Content-Type', 'video/mp2t').header('Cache-Control', `max-age=${deps.segmentMaxAge}`).send(data);
  } catch (err) {
    await fail(reply, err, deps.log, `${path} segment`);
  }
}
