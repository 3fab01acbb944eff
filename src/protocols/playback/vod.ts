import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../core/errors';
import { remoteOf } from '../shared/sockets';
import { admissionQuery } from '../shared/admission';
import { admit, failure, parseTime, streamPath, type PlaybackDeps } from './deps';
import { planRange, type PlanPart, type RangePlan } from './range-plan';
import { readPart } from './segment-reader';
import { openRecordingFile } from './range-reader';
import { planRequest, playable } from './range-stream';
import { streamPlan } from './range-route';

export type VodRequest = FastifyRequest<{ Params: { app: string; stream: string }; Querystring: Record<string, string | undefined> }>;
export type VodSegmentRequest = FastifyRequest<{ Params: { app: string; stream: string; id: string }; Querystring: Record<string, string | undefined> }>;

const OWN_KEYS = ['start', 'end', 'from', 'to', 't0'];

export interface VodEntry {
  readonly uri: string;
  readonly programDateTimeMs: number;
  readonly durationMs: number;
  readonly discontinuity: boolean;
}

/**
 * A VOD media playlist: every segment with its wall clock, DISCONTINUITY where the recording
 * has a gap or changes codec, ENDLIST. Spec: RFC 8216 §4.3.2.6, §4.3.3.5, §4.3.3.4.
 */
export function renderVodPlaylist(entries: readonly VodEntry[]): string {
  const target = Math.max(1, ...entries.map((e) => Math.ceil(e.durationMs / 1000)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
  for (const e of entries) {
    if (e.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(e.programDateTimeMs).toISOString()}`, `#EXTINF:${(e.durationMs / 1000).toFixed(3)},`, e.uri);
  }
  lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** Wall clock of the keyframe the first part starts at (what its segment really begins with). */
async function firstFrameWall(deps: PlaybackDeps, part: PlanPart): Promise<number> {
  const handle = await openRecordingFile(deps.dir, part.segment.file);
  try {
    for await (const event of readPart(handle, part, { first: true })) if (event.kind === 'frame') return event.wallMs;
  } finally {
    await handle.close();
  }
  return part.fromMs;
}

/** The playlist's entries: one per plan part, all on one output timeline that starts at t0. */
export async function vodEntries(deps: PlaybackDeps, plan: RangePlan, query: string): Promise<VodEntry[]> {
  const t0 = await firstFrameWall(deps, plan.parts[0]!);
  return plan.parts.map((part, i) => {
    const from = i === 0 ? t0 : part.fromMs;
    const params = new URLSearchParams(query);
    params.set('from', String(Math.round(part.fromMs)));
    params.set('to', String(Math.round(part.toMs)));
    params.set('t0', String(Math.round(t0 + part.closedMs)));
    return { uri: `vod/${part.segment.id}.ts?${params.toString()}`, programDateTimeMs: from, durationMs: part.toMs - from, discontinuity: part.discontinuity !== undefined };
  });
}

/** `GET /record/{app}/{stream}/index.m3u8?start&end`: the HLS VOD playlist of the range. */
export async function serveVodPlaylist(request: VodRequest, reply: FastifyReply, deps: PlaybackDeps): Promise<void> {
  try {
    const path = streamPath(request.params.app, request.params.stream);
    await admit(deps, path, 'record-hls', remoteOf(request.raw.socket), request.query, OWN_KEYS);
    const pass = admissionQuery(request.query, OWN_KEYS);
    const startMs = parseTime(request.query.start, 'start');
    const endMs = request.query.end ? parseTime(request.query.end, 'end') : undefined;
    const plan = planRequest(deps, path, startMs, endMs, 'ts');
    const body = renderVodPlaylist(await vodEntries(deps, plan, new URLSearchParams(pass).toString()));
    return reply.header('Content-Type', 'application/vnd.apple.mpegurl').header('Cache-Control', 'no-cache').send(body);
  } catch (err) {
    const { status, body } = failure(err);
    return reply.code(status).send(body);
  }
}

/**
 * `GET /record/{app}/{stream}/vod/{id}.ts?from&to&t0`: one playlist segment, remuxed to TS from
 * whatever the recording is (TS, HLS or FLV), on the playlist's timeline.
 */
export async function serveVodSegment(request: VodSegmentRequest, reply: FastifyReply, deps: PlaybackDeps): Promise<void> {
  try {
    const path = streamPath(request.params.app, request.params.stream);
    await admit(deps, path, 'record-hls', remoteOf(request.raw.socket), request.query, OWN_KEYS);
    const row = deps.index.get(Number(request.params.id));
    if (!row || row.path !== path || !playable(row)) throw new GatewayError('NOT_FOUND', `no segment ${request.params.id.slice(0, 40)} of ${path}`);
    const from = parseTime(request.query.from, 'from');
    const to = parseTime(request.query.to, 'to');
    const t0 = parseTime(request.query.t0, 't0');
    const plan = planRange([row], from, to);
    if (plan.parts.length === 0) throw new GatewayError('NOT_FOUND', `segment ${row.id} has nothing between from and to`);
    await streamPlan(request, reply, deps, plan, 'ts', {}, { originWallMs: t0 });
  } catch (err) {
    const { status, body } = failure(err);
    return reply.code(status).send(body);
  }
}
