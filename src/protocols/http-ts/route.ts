import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { GatewayError, errorBody, httpStatusOf } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { TsAttachment, TsFeeds } from '../../formats/mpegts/ts-feeds';
import type { Registry } from '../../hub/registry';
import type { Reader } from '../../hub/reader';
import { TsViewerWriter } from './ts-viewer';
import { closeWebSocket, remoteOf, wsCloseCodeOf } from '../shared/sockets';
import { playRequest, type ParsedQuery } from '../shared/admission';

export interface TsRouteDeps {
  registry: Registry;
  feeds: TsFeeds;
  log: Logger;
  /** Extra response header lines (CORS), each ending in CRLF. */
  extraHeaders: string;
  /** A viewer with more unsent bytes than this skips to the next keyframe (hub.viewer.maxPendingBytes). */
  maxPendingBytes: number;
  /** A viewer behind for longer than this is closed, ms (hub.viewer.maxLag). */
  maxLagMs: number;
  /** Older media a viewer gets at once, s (http.tsBurstSeconds): the default and the most `?burst=` may ask. */
  burstSeconds: number;
}

export type TsStreamRequest = FastifyRequest<{ Params: { app: string; stream: string }; Querystring: Record<string, string | undefined> }>;

interface ViewerParts {
  protocol: 'http-ts' | 'ws-ts';
  remote: string;
  writer: TsViewerWriter;
  /** Ends the viewer once (either side, or the stream). */
  finish: (reason: string) => void;
}

interface Joined {
  reader: Reader;
  attachment: TsAttachment;
}

/**
 * Admits a viewer, counts it (a hub reader handle, hub rule 10) and attaches its writer to the
 * stream's shared TS feed. Resolves once both are in place; the caller then answers its peer
 * and calls `open`.
 */
async function join(path: string, parts: ViewerParts, deps: TsRouteDeps, signal: AbortSignal, query: ParsedQuery): Promise<Joined> {
  const burstMs = burstMsOf(query, deps.burstSeconds);
  await deps.registry.admission.admit(playRequest(parts.protocol, path, parts.remote, query));
  const reader = deps.registry.reader(path, { protocol: parts.protocol, remote: parts.remote, bytesOut: () => parts.writer.bytesOut, onClose: parts.finish });
  try {
    const attachment = await deps.feeds.attach(path, parts.writer, { signal, burstMs });
    return { reader, attachment };
  } catch (err) {
    reader.close();
    throw err;
  }
}

/**
 * `?burst=SECONDS`: how much older media (whole GOPs) the viewer gets at once before live, at most
 * `maxSeconds`; absent: `maxSeconds`. A prober that reads 5 s of stream time before its first
 * frame (ffmpeg's TS demuxer with scan_all_pmts) then starts at once, at the cost of that delay.
 */
export function burstMsOf(query: ParsedQuery | undefined, maxSeconds: number): number {
  const raw = query?.burst;
  const value = typeof raw === 'string' ? raw : raw?.[0];
  if (value === undefined) return maxSeconds * 1000;
  if (!/^\d{1,4}(?:\.\d{1,3})?$/.test(value)) throw new GatewayError('BAD_REQUEST', `burst must be a number of seconds (0 to ${maxSeconds})`);
  return Math.min(Number(value), maxSeconds) * 1000;
}

function viewerParts(protocol: 'http-ts' | 'ws-ts', remote: string, backlog: () => number, deps: TsRouteDeps, end: (reason: string) => void): ViewerParts {
  let done = false;
  const finish = (reason: string): void => {
    if (done) return;
    done = true;
    end(reason);
  };
  const writer = new TsViewerWriter(backlog, deps.maxPendingBytes, finish, deps.maxLagMs);
  return { protocol, remote, writer, finish };
}

/** `GET /{app}/{stream}.ts`: waits (bounded) for the stream, then one continuous TS from a keyframe. */
export async function serveHttpTs(request: TsStreamRequest, reply: FastifyReply, deps: TsRouteDeps): Promise<void> {
  const path = `${request.params.app}/${request.params.stream}`;
  const socket = request.raw.socket;
  const remote = remoteOf(socket);
  const aborted = new AbortController();
  const onClose = (): void => aborted.abort();
  socket.once('close', onClose);
  let joined: Joined | undefined;
  let started = false;
  const parts = viewerParts(
    'http-ts',
    remote,
    () => socket.writableLength,
    deps,
    (reason) => {
      deps.log.debug({ path, remote, reason }, 'http-ts viewer ended');
      joined?.reader.close();
      joined?.attachment.detach();
      aborted.abort();
      if (started && !socket.destroyed) {
        socket.end();
        setTimeout(() => socket.destroy(), 2000).unref();
      }
    },
  );
  try {
    joined = await join(path, parts, deps, aborted.signal, request.query);
  } catch (err) {
    socket.off('close', onClose);
    if (reply.sent || socket.destroyed) return;
    deps.log.debug({ path, remote, err: errorBody(err) }, 'http-ts viewer refused');
    await reply.code(httpStatusOf(err)).send(errorBody(err));
    return;
  }
  socket.off('close', onClose);
  if (socket.destroyed) {
    parts.finish('viewer disconnected');
    return;
  }
  reply.hijack();
  started = true;
  const head = 'HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nCache-Control: no-cache, no-store\r\nPragma: no-cache\r\n' + `Connection: close\r\n${deps.extraHeaders}\r\n`;
  socket.write(head, 'latin1');
  parts.writer.open((data) => {
    if (!socket.destroyed) socket.write(data);
  });
  const end = (): void => parts.finish('viewer disconnected');
  socket.once('close', end);
  socket.once('error', end);
  deps.log.debug({ path, remote }, 'http-ts viewer started');
}

/**
 * The same path over WebSocket: each frame's TS packets are one binary message. A refused viewer
 * gets a close frame with the code of `wsCloseCodeOf` and the error message.
 */
export function serveWsTs(socket: WebSocket, request: TsStreamRequest, deps: TsRouteDeps): void {
  const path = `${request.params.app}/${request.params.stream}`;
  const remote = remoteOf(request.socket);
  const aborted = new AbortController();
  let joined: Joined | undefined;
  const parts = viewerParts(
    'ws-ts',
    remote,
    () => socket.bufferedAmount,
    deps,
    (reason) => {
      joined?.reader.close();
      joined?.attachment.detach();
      aborted.abort();
      closeWebSocket(socket, 1000, reason);
    },
  );
  socket.on('error', () => parts.finish('viewer disconnected'));
  socket.once('close', () => parts.finish('viewer disconnected'));
  join(path, parts, deps, aborted.signal, request.query).then(
    (result) => {
      joined = result;
      if (aborted.signal.aborted) {
        result.reader.close();
        result.attachment.detach();
        return;
      }
      parts.writer.open((data) => {
        if (socket.readyState === socket.OPEN) socket.send(data, { binary: true, compress: false });
      });
    },
    (err: unknown) => {
      deps.log.debug({ path, remote, err: errorBody(err) }, 'ws-ts viewer refused');
      closeWebSocket(socket, wsCloseCodeOf(err), errorBody(err).message);
    },
  );
}
