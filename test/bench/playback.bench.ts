/**
 * Playback of recordings (issue 10): time to first byte of a 1-hour range inside a day of
 * 60-second segments, download throughput of .flv and .mp4 (MB/s and CPU-ms per MB), and 20
 * concurrent real-time (?speed=1) FLV playbacks (CPU and RSS per playback).
 *
 *   npm run bench:playback -- [--bitrate 2000k] [--viewers 20] [--seconds 20]
 *
 * One 60 s 640x360 25 fps H.264 + AAC FLV is made with ffmpeg and hard-linked 1440 times as a
 * day of segments indexed through the RecordingsRepo; the server (fastify + the playback routes)
 * runs in this process, the clients are curl processes (their CPU is not counted).
 */
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingsRepo } from '../../storage/repos/recordings';
import { ffmpegPath, runTool } from '../helpers/media-tools';
import { testPatternArgs } from '../helpers/publisher';
import { startPlaybackServer } from '../protocols/playback/fixtures';
import { clockTicksPerSecond, machineBusySeconds } from './proc-stats';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const BITRATE = arg('bitrate', '2000k');
const VIEWERS = Number(arg('viewers', '20'));
const SECONDS = Number(arg('seconds', '20'));
const DAY = Date.UTC(2026, 2, 1);
const SEGMENT_MS = 60_000;

interface CurlResult {
  ttfbMs: number;
  totalMs: number;
  bytes: number;
}

/** curl GET to /dev/null: time to first byte, total time, bytes (curl's own -w numbers). */
function curl(url: string, maxSeconds?: number): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const args = ['-s', '-o', '/dev/null', '-w', '%{time_starttransfer} %{time_total} %{size_download}', ...(maxSeconds ? ['-m', String(maxSeconds)] : []), url];
    const child = spawn('curl', args);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      const [ttfb, total, bytes] = out.trim().split(' ').map(Number);
      resolve({ ttfbMs: (ttfb ?? 0) * 1000, totalMs: (total ?? 0) * 1000, bytes: bytes ?? 0 });
    });
  });
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pb-bench-'));
  try {
    const source = join(dir, 'source.flv');
    const made = await runTool(
      ffmpegPath,
      testPatternArgs(source, { size: '640x360', gop: 25, bitrate: BITRATE, maxrate: BITRATE, bufsize: BITRATE, seconds: 60, realtime: false }),
      300_000,
    );
    if (made.code !== 0) throw new Error(made.stderr);
    const size = statSync(source).size;
    const server = await startPlaybackServer(dir);
    const repo = new RecordingsRepo(server.db);
    mkdirSync(join(dir, 'live', 'cam', '2026-03-01'), { recursive: true });
    server.db.transaction(() => {
      for (let i = 0; i < 1440; i++) {
        const file = `live/cam/2026-03-01/${String(i).padStart(4, '0')}.flv`;
        linkSync(source, join(dir, file));
        const startMs = DAY + i * SEGMENT_MS;
        repo.insert({
          path: 'live/cam',
          format: 'flv',
          file,
          startMs,
          endMs: startMs + SEGMENT_MS,
          bytes: size,
          videoCodec: 'h264',
          width: 640,
          height: 360,
          audioCodec: 'aac',
          keyframes: 60,
          status: 'complete',
          planId: null,
          reason: 'plan',
        });
      }
    })();
    const hz = clockTicksPerSecond();
    const busyBefore = machineBusySeconds(hz);
    const started = Date.now();
    console.log(`segment: 60 s, ${(size / 1e6).toFixed(1)} MB (${BITRATE}); 1440 segments indexed`);

    // 1. Time to first byte of a 1-hour range starting mid-segment (12:00:30 to 13:00:30).
    const rangeStart = DAY + 12 * 3_600_000 + 30_000;
    const hour = `start=${rangeStart}&end=${rangeStart + 3_600_000}`;
    for (const ext of ['flv', 'ts', 'mp4']) {
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) samples.push((await curl(`${server.base}/record/live/cam.${ext}?${hour}`, 0.001 + 2)).ttfbMs);
      samples.sort((a, b) => a - b);
      console.log(`TTFB 1-hour .${ext}: median ${samples[2]!.toFixed(1)} ms (min ${samples[0]!.toFixed(1)}, max ${samples[4]!.toFixed(1)}) over 5`);
    }

    // 2. Download throughput of the hour, one client at a time.
    for (const ext of ['flv', 'mp4', 'ts']) {
      const cpu0 = cpuMs();
      const result = await curl(`${server.base}/record/live/cam.${ext}?${hour}`);
      const cpu = cpuMs() - cpu0;
      const mb = result.bytes / 1e6;
      console.log(
        `download 1-hour .${ext}: ${mb.toFixed(0)} MB in ${(result.totalMs / 1000).toFixed(2)} s = ${(mb / (result.totalMs / 1000)).toFixed(0)} MB/s, server CPU ${(cpu / mb).toFixed(2)} ms per MB (${((cpu / result.totalMs) * 100).toFixed(0)}% of a core)`,
      );
    }

    // 3. Concurrent real-time playbacks.
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const cpu0 = cpuMs();
    let peakRss = rss0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: VIEWERS }, (_, i) => curl(`${server.base}/record/live/cam.flv?start=${rangeStart + i * 60_000}&speed=1`, SECONDS)));
    clearInterval(sampler);
    const wall = Date.now() - t0;
    const cpu = cpuMs() - cpu0;
    const mbps = results.reduce((n, r) => n + r.bytes, 0) / 1e6 / (wall / 1000);
    console.log(
      `${VIEWERS} real-time .flv playbacks for ${SECONDS} s: ${(mbps * 8).toFixed(1)} Mbit/s total; server CPU ${((cpu / wall) * 100).toFixed(1)}% of a core (${(((cpu / wall) * 100) / VIEWERS).toFixed(2)}% each); RSS +${((peakRss - rss0) / 1e6).toFixed(1)} MB peak (${((peakRss - rss0) / 1e6 / VIEWERS).toFixed(2)} MB each)`,
    );
    const busy = machineBusySeconds(hz) - busyBefore;
    console.log(`machine: ${((busy / ((Date.now() - started) / 1000)) * 100).toFixed(0)}% of one core busy on average over the run (2 cores, shared with the other engineers)`);
    await server.app.close();
    server.db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
