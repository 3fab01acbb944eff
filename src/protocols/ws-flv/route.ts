import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from '../../core/log';
import type { FlvTagCache } from '../../formats/flv/viewer-muxer';
import type { FeedKey, StreamInfo } from '../../core/sink';
import type { Registry } from '../../hub/registry';
import { WsFlvSink, WsFrameCache } from './ws-flv-sink';
import { serveWsPlay } from '../shared/ws-play';

export interface WsFlvDeps {
  registry: Registry;
  log: Logger;
  /** TCP_NODELAY on the viewer's socket (http.flvNoDelay). */
  noDelay: boolean;
  /** The stream's FLV tag feed for a viewer's query (`?hevc=legacy`). */
  tagFeed: (query: Record<string, string | undefined>) => FeedKey<FlvTagCache>;
}

type StreamRequest = FastifyRequest<{ Params: { app: string; stream: string }; Querystring: Record<string, string | undefined> }>;

/**
 * The same path as HTTP-FLV over WebSocket. A refused viewer gets a close frame with the code
 * of `wsCloseCodeOf` (4401, 4403, 1013, 4404 not found, 4502 source failed) and the message.
 */
export function serveWsFlv(socket: WebSocket, request: StreamRequest, deps: WsFlvDeps): void {
  const caches = (info: StreamInfo): { tags: FlvTagCache; frames: WsFrameCache } => {
    const tags = info.feed(deps.tagFeed(request.query));
    return { tags, frames: info.feed(WsFrameCache.FEEDS[tags.hevcMode]) };
  };
  request.raw.socket.setNoDelay(deps.noDelay);
  const route = { hub: deps.registry, log: deps.log, protocol: 'ws-flv', peer: 'viewer' };
  serveWsPlay(socket, request, (remote) => new WsFlvSink(socket, request.raw.socket, caches, remote), route);
}
