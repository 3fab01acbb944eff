import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { GatewayError } from '../../core/errors';
import type { Frame } from '../../core/frame';
import type { Sink, StreamInfo } from '../../core/sink';
import type { Track } from '../../core/track';
import { admit, parseSpeed, parseTime, streamPath, type PlaybackDeps } from './deps';
import { Pacer } from './output';
import { planFrom, type RangePlan } from './range-plan';
import { rangeOrigin, readRange } from './range-reader';
import { pace, planRequest } from './range-stream';
import { runRangeWs, type RangeRequest } from './range-route';

/** The listener of a recorded range's G.711: the app gives ws-audio's sink (its framing, start message and 4415). */
export type AudioSinkFactory = (socket: WebSocket, raw: Socket, remote: string) => Sink;

const OWN_KEYS = ['start', 'end', 'at', 'speed'];
/** Frames leave this far ahead of their time, so that the page has them before the picture needs them. */
export const AUDIO_LEAD_MS = 500;
/** A listener with this much unsent is waited for (at 1x G.711 is 8 kB/s: only a stuck peer gets here). */
const HIGH_WATER = 256 * 1024;
const READ_CHUNK = 32 * 1024;

function isG711(codec: string | null | undefined): boolean {
  return codec === 'g711a' || codec === 'g711u';
}

interface AudioRequestInfo {
  path: string;
  startMs: number;
  endMs: number | undefined;
  atMs: number;
}

function requestInfo(request: RangeRequest): AudioRequestInfo {
  const q = request.query;
  const speed = parseSpeed(q.speed);
  // Decision (docs/architecture.md "Playback"): sound plays at 1x only, as NVR clients do.
  if (speed !== undefined && speed !== 1) throw new GatewayError('BAD_REQUEST', 'the G.711 of a recording plays at speed 1 only (the console mutes it at other speeds)');
  const at = q.at === undefined || q.at === '' ? 0 : Number(q.at);
  if (!Number.isFinite(at) || at < 0 || at > 366 * 24 * 3600_000) throw new GatewayError('BAD_REQUEST', 'at is ms into the range (0 or more)');
  return {
    path: streamPath(request.params.app, request.params.stream),
    startMs: parseTime(q.start, 'start'),
    endMs: q.end === undefined || q.end === '' ? undefined : parseTime(q.end, 'end'),
    atMs: at,
  };
}

/**
 * `/record/{app}/{stream}.g711?start&end&at` over WebSocket: the G.711 of the recorded range that
 * `/record/{app}/{stream}.flv?start&end` plays, from `at` ms into it, each frame with the dts that
 * range gives it (same plan, same reader: the page places it against the <video> as it places live
 * audio), paced at 1x. Admitted like the range itself (protocol `record-ws-g711`).
 */
export function serveRangeAudioWs(socket: WebSocket, request: RangeRequest, deps: PlaybackDeps, sinkOf: AudioSinkFactory): void {
  runRangeWs(socket, request, async (remote, signal) => {
    const info = requestInfo(request);
    await admit(deps, info.path, 'record-ws-g711', remote, request.query, OWN_KEYS);
    const plan = planRequest(deps, info.path, info.startMs, info.endMs, 'flv');
    const sink = sinkOf(socket, request.raw.socket, remote);
    const frames = await pumpRangeAudio(deps, plan, info, sink, signal);
    deps.log.debug({ path: info.path, remote, frames, aborted: signal.aborted }, 'recorded audio served');
    sink.onEnd(signal.aborted ? 'listener disconnected' : 'end of range');
  });
}

function streamInfo(path: string, tracks: readonly Track[]): StreamInfo {
  return {
    path,
    tracks,
    feed: () => {
      throw new GatewayError('INTERNAL', 'a recorded range has no shared feeds');
    },
  };
}

/**
 * Reads the range from `at` on its timeline and hands its G.711 frames to `sink` as the hub would
 * (onStart with the G.711 tracks, onTracks, onFrame); a range without G.711 starts the sink with
 * no track (ws-audio's sink then closes with 4415). Returns the frames sent.
 */
export async function pumpRangeAudio(deps: Pick<PlaybackDeps, 'dir'>, plan: RangePlan, info: AudioRequestInfo, sink: Sink, signal: AbortSignal): Promise<number> {
  const origin = plan.parts.some((p) => isG711(p.segment.audioCodec)) ? await rangeOrigin(plan, deps.dir, READ_CHUNK) : undefined;
  const rest = origin === undefined ? undefined : planFrom(plan, origin, info.atMs);
  if (!rest || signal.aborted) {
    sink.onStart(streamInfo(info.path, []));
    return 0;
  }
  const reader = readRange(rest.plan, deps.dir, { originWallMs: origin, chunkSize: READ_CHUNK });
  const pacer = new Pacer(1);
  let started = false;
  let frames = 0;
  try {
    for await (const event of reader) {
      if (signal.aborted) break;
      if (event.type === 'tracks') {
        const audio = event.tracks.filter((t) => isG711(t.codec));
        if (audio.length === 0) continue;
        if (started) sink.onTracks(audio);
        else sink.onStart(streamInfo(info.path, audio));
        started = true;
      } else if (event.type === 'frame' && started && isG711(event.frame.codec) && event.wallMs >= rest.fromWallMs) {
        await send(sink, event.frame, pacer, signal);
        frames++;
      }
    }
  } finally {
    await reader.return(undefined);
  }
  if (!started && !signal.aborted) sink.onStart(streamInfo(info.path, []));
  return frames;
}

async function send(sink: Sink, frame: Frame, pacer: Pacer, signal: AbortSignal): Promise<void> {
  await pace(pacer, frame, signal, AUDIO_LEAD_MS);
  while (!signal.aborted && sink.pendingBytes() > HIGH_WATER) await sleep(20, undefined, { signal }).catch(() => undefined);
  if (!signal.aborted) sink.onFrame(frame);
}

/** A plain GET of the recorded audio feed: it is WebSocket only. */
export async function refuseHttpRangeAudio(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await reply
    .code(426)
    .header('upgrade', 'websocket')
    .send({ code: 'UPGRADE_REQUIRED', message: 'the audio of a recording is WebSocket only: ws://HOST/record/{app}/{stream}.g711?start=T' });
}
