import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { closeWebSocket, remoteOf, wsCloseCodeOf } from '../shared/sockets';
import { admit, failure, parseSpeed, parseTime, streamPath, type PlaybackDeps } from './deps';
import { CONTENT_TYPES, type PlaybackFormat } from './output';
import type { RangePlan } from './range-plan';
import { planRequest, pumpRange, rangeHeaders, type PumpOptions, type RangeOutput } from './range-stream';

export type RangeRequest = FastifyRequest<{ Params: { app: string; stream: string }; Querystring: Record<string, string | undefined> }>;

const OWN_KEYS = ['start', 'end', 'speed', 'download'];
/** A WebSocket peer with this much unsent is waited for before the next frame. */
const WS_HIGH_WATER = 1024 * 1024;
/** An HTTP response with less than this unsent takes the next frame without waiting for drain. */
const HTTP_HIGH_WATER = 1024 * 1024;

interface RangeRequestInfo {
  path: string;
  startMs: number;
  endMs: number | undefined;
  speed: number | undefined;
  download: boolean;
}

function requestInfo(request: RangeRequest, format: PlaybackFormat): RangeRequestInfo {
  const q = request.query;
  const speed = parseSpeed(q.speed);
  return {
    path: streamPath(request.params.app, request.params.stream),
    startMs: parseTime(q.start, 'start'),
    endMs: q.end === undefined || q.end === '' ? undefined : parseTime(q.end, 'end'),
    speed: format === 'mp4' ? undefined : speed,
    download: q.download === '1' || q.download === 'true',
  };
}

/**
 * `GET /record/{app}/{stream}.{flv|ts|mp4}?start&end[&speed][&download=1]`: one continuous
 * stream of the recorded range, paced at `speed` or as fast as the client reads.
 */
export async function serveRangeHttp(request: RangeRequest, reply: FastifyReply, deps: PlaybackDeps, format: PlaybackFormat): Promise<void> {
  const remote = remoteOf(request.raw.socket);
  let info: RangeRequestInfo;
  let plan: RangePlan;
  try {
    info = requestInfo(request, format);
    await admit(deps, info.path, `record-${format}`, remote, request.query, OWN_KEYS);
    plan = planRequest(deps, info.path, info.startMs, info.endMs, format);
  } catch (err) {
    const { status, body } = failure(err);
    return reply.code(status).send(body);
  }
  await streamPlan(request, reply, deps, plan, format, { ...rangeHeaders(plan, info.path, format, info.download) }, { speed: info.speed });
}

/** Streams a plan as the response body (hijacked: written with backpressure until done or the client leaves). */
export async function streamPlan(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: PlaybackDeps,
  plan: RangePlan,
  format: PlaybackFormat,
  headers: Record<string, string>,
  options: PumpOptions,
): Promise<void> {
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, { 'Content-Type': CONTENT_TYPES[format], 'Cache-Control': 'no-store', ...deps.extraHeaders, ...headers });
  const aborted = new AbortController();
  const stop = (): void => aborted.abort();
  raw.once('close', stop);
  const log = deps.log.child({ path: plan.parts[0]?.segment.file, remote: remoteOf(request.raw.socket), format });
  try {
    const frames = await pumpRange(deps, plan, format, httpOutput(raw, aborted.signal), aborted.signal, options);
    log.debug({ frames, aborted: aborted.signal.aborted }, 'recorded range served');
  } catch (err) {
    log.warn({ err }, 'recorded range failed');
  } finally {
    raw.off('close', stop);
    if (!raw.destroyed) raw.end();
  }
}

function httpOutput(raw: ServerResponse, signal: AbortSignal): RangeOutput {
  return {
    write(parts) {
      raw.cork();
      let ok = true;
      for (const part of parts) ok = raw.write(part) && ok;
      raw.uncork();
      if (ok || signal.aborted || raw.writableLength < HTTP_HIGH_WATER) return;
      return once(raw, 'drain', { signal }).then(
        () => undefined,
        () => undefined, // aborted: the pump stops
      );
    },
  };
}

/**
 * Runs a recorded range over a WebSocket: `run` gets an abort signal that fires when the peer goes;
 * a failure (refusal, bad query, read error) closes with 4000 + status.
 */
export function runRangeWs(socket: WebSocket, request: RangeRequest, run: (remote: string, signal: AbortSignal) => Promise<void>): void {
  const remote = remoteOf(request.raw.socket);
  const aborted = new AbortController();
  socket.on('error', () => aborted.abort());
  socket.once('close', () => aborted.abort());
  run(remote, aborted.signal).catch((err: unknown) => closeWebSocket(socket, wsCloseCodeOf(err), failure(err).body.message));
}

/** The same URL over WebSocket: one binary message per frame; refusals close with 4000 + status. */
export function serveRangeWs(socket: WebSocket, request: RangeRequest, deps: PlaybackDeps, format: PlaybackFormat): void {
  runRangeWs(socket, request, async (remote, signal) => {
    const info = requestInfo(request, format);
    await admit(deps, info.path, `record-ws-${format}`, remote, request.query, OWN_KEYS);
    const plan = planRequest(deps, info.path, info.startMs, info.endMs, format);
    await pumpRange(deps, plan, format, wsOutput(socket, signal), signal, { speed: info.speed });
    closeWebSocket(socket, 1000, 'end of range');
  });
}

function wsOutput(socket: WebSocket, signal: AbortSignal): RangeOutput {
  return {
    async write(parts) {
      if (signal.aborted || socket.readyState !== socket.OPEN) return;
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (socket.bufferedAmount < WS_HIGH_WATER) {
        socket.send(data, { binary: true });
        return;
      }
      await new Promise<void>((resolve) => socket.send(data, { binary: true }, () => resolve()));
    },
  };
}
