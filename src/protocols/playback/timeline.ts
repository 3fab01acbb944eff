import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../core/errors';
import { zonedToEpoch } from '../../core/zoned-time';
import { remoteOf } from '../shared/sockets';
import { admit, failure, parseTime, type PlaybackDeps } from './deps';
import { mergeIntervals } from './range-plan';
import { playable } from './range-stream';

export type TimelineRequest = FastifyRequest<{ Querystring: Record<string, string | undefined> }>;

const PATH = /^[A-Za-z0-9_.-]{1,128}\/[A-Za-z0-9_.-]{1,128}$/;
/** A timeline covers at most this much (a month and a bit): a year of rows is not one answer. */
const MAX_TIMELINE_MS = 32 * 24 * 3600_000;

function pathOf(query: Record<string, string | undefined>): string {
  const path = query.path ?? '';
  if (!PATH.test(path)) throw new GatewayError('BAD_REQUEST', 'path is app/stream');
  return path;
}

/** `GET /api/recordings/timeline?path&start&end`: covered intervals, adjacent segments merged. */
export async function serveTimeline(request: TimelineRequest, reply: FastifyReply, deps: PlaybackDeps): Promise<void> {
  try {
    const path = pathOf(request.query);
    const startMs = parseTime(request.query.start, 'start');
    const endMs = parseTime(request.query.end, 'end');
    if (endMs <= startMs || endMs - startMs > MAX_TIMELINE_MS) throw new GatewayError('BAD_REQUEST', 'end must be after start, at most 32 days later');
    await admit(deps, path, 'record-api', remoteOf(request.raw.socket), request.query, ['path', 'start', 'end']);
    const rows = deps.index.find({ path, startMs, endMs }).filter(playable);
    const intervals = mergeIntervals(rows, startMs, endMs).map((i) => ({
      start: new Date(i.startMs).toISOString(),
      end: new Date(i.endMs).toISOString(),
      startMs: i.startMs,
      endMs: i.endMs,
    }));
    const audioCodecs = [...new Set(rows.flatMap((r) => (r.audioCodec ? [r.audioCodec] : [])))].sort();
    return reply.send({ path, start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), intervals, audioCodecs });
  } catch (err) {
    const { status, body } = failure(err);
    return reply.code(status).send(body);
  }
}

/** `GET /api/recordings/days?path&month=YYYY-MM`: the local dates (record.timezone) with recordings. */
export async function serveDays(request: TimelineRequest, reply: FastifyReply, deps: PlaybackDeps): Promise<void> {
  try {
    const path = pathOf(request.query);
    const m = /^(\d{4})-(\d{2})$/.exec(request.query.month ?? '');
    const year = Number(m?.[1]);
    const month = Number(m?.[2]);
    if (!m || month < 1 || month > 12) throw new GatewayError('BAD_REQUEST', 'month is YYYY-MM');
    await admit(deps, path, 'record-api', remoteOf(request.raw.socket), request.query, ['path', 'month']);
    const from = zonedToEpoch(year, month, 1, 0, 0, 0, deps.timeZone);
    const to = month === 12 ? zonedToEpoch(year + 1, 1, 1, 0, 0, 0, deps.timeZone) : zonedToEpoch(year, month + 1, 1, 0, 0, 0, deps.timeZone);
    return reply.send({ path, month: request.query.month, timeZone: deps.timeZone, days: deps.index.days(path, from, to, deps.timeZone) });
  } catch (err) {
    const { status, body } = failure(err);
    return reply.code(status).send(body);
  }
}
