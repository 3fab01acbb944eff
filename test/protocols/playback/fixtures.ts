import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { silentLogger } from '../../../src/core/log';
import type { PlaybackDeps } from '../../../src/protocols/playback/deps';
import { registerPlaybackRoutes } from '../../../src/protocols/playback/routes';
import { openDatabase, type Db } from '../../../storage/db';
import { RecordingsRepo } from '../../../storage/repos/recordings';
import { ffmpegPath, runTool } from '../../helpers/media-tools';

export const SEGMENT_MS = 15_000;
export const GAP_MS = 10_000;
/** 2026-03-01T02:40:00Z: the recordings' wall clock. */
export const T0 = Date.UTC(2026, 2, 1, 2, 40, 0);

/**
 * First and last packet time (s) over all streams, the last one's duration included, from
 * ffmpeg's framecrc (this ffprobe build crashes on the TS that this ffmpeg build writes).
 */
async function mediaSpan(file: string): Promise<{ first: number; last: number }> {
  const result = await runTool(ffmpegPath, ['-v', 'error', '-copyts', '-i', file, '-map', '0', '-c', 'copy', '-f', 'framecrc', '-'], 30_000);
  const bases = new Map<string, number>();
  let first = Infinity;
  let last = -Infinity;
  for (const line of result.stdout.split('\n')) {
    const tb = /^#tb (\d+): (\d+)\/(\d+)/.exec(line);
    if (tb) bases.set(tb[1]!, Number(tb[2]) / Number(tb[3]));
    const packet = /^(\d+),\s*(-?\d+),\s*(-?\d+),\s*(\d+),/.exec(line);
    if (!packet) continue;
    const base = bases.get(packet[1]!) ?? 0;
    first = Math.min(first, Number(packet[3]) * base);
    last = Math.max(last, (Number(packet[3]) + Number(packet[4])) * base);
  }
  if (!Number.isFinite(first)) throw new Error(`no packets in ${file}: ${result.stderr}`);
  return { first, last };
}

/**
 * Three 15 s segments cut by ffmpeg's segment muxer (H.264 GOP 1 s + AAC, A-law or µ-law) in `format`, the
 * third 10 s after the second ended (a publisher gap), indexed through the RecordingsRepo.
 */
export async function makeRecordings(
  dir: string,
  db: Db,
  format: 'flv' | 'ts',
  path = 'live/cam',
  rowFormat: 'flv' | 'ts' | 'hls' = format,
  audio: 'aac' | 'g711a' | 'g711u' = 'aac',
): Promise<{ ids: number[]; files: string[]; starts: number[] }> {
  const folder = join(dir, path, '2026-03-01');
  mkdirSync(folder, { recursive: true });
  const pattern = join(folder, `seg-%d.${format}`);
  const result = await runTool(
    ffmpegPath,
    [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=${audio === 'aac' ? 44100 : 8000}`,
      '-t',
      '45',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-g',
      '25',
      '-keyint_min',
      '25',
      '-sc_threshold',
      '0',
      '-bf',
      '0',
      ...(audio === 'aac' ? ['-c:a', 'aac'] : ['-c:a', audio === 'g711a' ? 'pcm_alaw' : 'pcm_mulaw', '-ar', '8000']),
      '-ac',
      '1',
      '-f',
      'segment',
      '-segment_time',
      '15',
      '-reset_timestamps',
      '0',
      '-segment_format',
      format === 'flv' ? 'flv' : 'mpegts',
      '-y',
      pattern,
    ],
    60_000,
  );
  if (result.code !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  const repo = new RecordingsRepo(db);
  const starts: number[] = [];
  const ids: number[] = [];
  const files: string[] = [];
  const names = readdirSync(folder)
    .filter((n) => n.startsWith('seg-') && n.endsWith(`.${format}`))
    .sort();
  for (const [i, name] of names.slice(0, 3).entries()) {
    const file = `${path}/2026-03-01/${String(i).padStart(2, '0')}-${name}`;
    renameSync(join(folder, name), join(dir, file));
    // The row a recorder would write: wall clock of the first frame and of the end of the last
    // (the third segment 10 s later: a publisher gap).
    const span = await mediaSpan(join(dir, file));
    const startMs = T0 + Math.round(span.first * 1000) + (i === 2 ? GAP_MS : 0);
    starts.push(startMs);
    files.push(file);
    ids.push(
      repo.insert({
        path,
        format: rowFormat,
        file,
        startMs,
        endMs: startMs + Math.round((span.last - span.first) * 1000),
        bytes: statSync(join(dir, file)).size,
        videoCodec: 'h264',
        width: 320,
        height: 240,
        audioCodec: audio,
        keyframes: 15,
        status: 'complete',
        planId: null,
        reason: 'plan',
      }),
    );
  }
  return { ids, files, starts };
}

export async function startPlaybackServer(dir: string, extra: Partial<PlaybackDeps> = {}): Promise<{ app: FastifyInstance; base: string; db: Db; deps: PlaybackDeps }> {
  const db = openDatabase(join(dir, 'db'), silentLogger());
  const app = Fastify();
  await app.register(websocket);
  const deps: PlaybackDeps = { index: new RecordingsRepo(db), dir, timeZone: 'UTC', log: silentLogger(), hevcMode: 'enhanced', extraHeaders: {}, ...extra };
  registerPlaybackRoutes(app, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, base: `http://127.0.0.1:${port}`, db, deps };
}
