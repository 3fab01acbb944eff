/**
 * Recording benchmark: prints numbers, asserts nothing.
 *
 *   npm run bench:recording -- [--streams 50] [--seconds 20] [--rows 500000] [--queries 2000]
 *
 * The gateway runs in this process (its CPU is this process's CPU). N streams of one 2 Mbit/s
 * 1280x720 H.264 + AAC FLV (made once with ffmpeg) are replayed in real time into the hub; then
 * three windows are measured: no recorder (baseline), one FLV recorder per stream, one
 * FLV + TS recorder per stream. Per recording: CPU (% of one core) and RSS over the baseline;
 * bytes written per second; event-loop delay p99; frames the recorders dropped. Then the
 * index: `rows` 60-second segments of one camera (a year is 525,600), and the time to find one
 * random hour of it (p50, p99, max).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log';
import { openDatabase } from '../../storage/db';
import { RecordingsRepo } from '../../storage/repos/recordings';
import { startTestGateway } from '../helpers/gateway';
import { readFlvFrames, startFlvFileSource } from '../helpers/flv-file-source';
import { ffmpegPath, runTool } from '../helpers/media-tools';
import { testPatternArgs } from '../helpers/publisher';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const STREAMS = arg('streams', 50);
const SECONDS = arg('seconds', 20);
const ROWS = arg('rows', 500_000);
const QUERIES = arg('queries', 2000);

interface Window {
  cpuPercent: number;
  rssMb: number;
  loopP99Ms: number;
  bytesPerSecond: number;
  drops: number;
}

async function measure(seconds: number, bytesNow: () => number, drops: () => number): Promise<Window> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const bytes0 = bytesNow();
  let rssSum = 0;
  let samples = 0;
  const sampler = setInterval(() => {
    rssSum += process.memoryUsage().rss;
    samples++;
  }, 500);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(sampler);
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  return {
    cpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
    rssMb: rssSum / Math.max(1, samples) / 1024 / 1024,
    loopP99Ms: loop.percentile(99) / 1e6,
    bytesPerSecond: (bytesNow() - bytes0) / elapsed,
    drops: drops(),
  };
}

async function recordingRound(dir: string): Promise<void> {
  const source = join(dir, 'src.flv');
  const made = await runTool(
    ffmpegPath,
    testPatternArgs(source, {
      size: '1280x720',
      gop: 50,
      bframes: 0,
      preset: 'veryfast',
      bitrate: '1900k',
      maxrate: '2000k',
      bufsize: '2000k',
      audioBitrate: '96k',
      seconds: 20,
      realtime: false,
    }),
    300_000,
  );
  if (made.code !== 0) throw new Error(made.stderr);
  const media = readFlvFrames(source);
  const bitrate = (media.frames.reduce((n, f) => n + f.byteLength, 0) * 8) / 20 / 1e6;
  const gw = await startTestGateway({ GW_SIP_ENABLED: 'false', GW_STORAGE_DIR: join(dir, 'gw'), GW_RECORD_SEGMENT_SECONDS: '60' });
  const sources = Array.from({ length: STREAMS }, (_, i) => startFlvFileSource(gw.gateway.registry, `bench/cam${i}`, media));
  const manager = gw.gateway.recording.manager;
  const bytes = (): number => manager.active().reduce((n, r) => n + r.bytes, 0);
  const drops = (): number => manager.active().reduce((n, r) => n + r.drops, 0);
  try {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const base = await measure(
      SECONDS,
      () => 0,
      () => 0,
    );
    const rows: [string, Window][] = [['no recorder', base]];
    for (const formats of [['flv'], ['flv', 'ts']] as const) {
      for (let i = 0; i < STREAMS; i++) manager.startManual(`bench/cam${i}`, [...formats], undefined);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const w = await measure(SECONDS, bytes, drops);
      rows.push([formats.join('+'), w]);
      for (let i = 0; i < STREAMS; i++) await manager.stopManual(`bench/cam${i}`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    console.log(`\n${STREAMS} streams of ${bitrate.toFixed(2)} Mbit/s media (1280x720 25 fps H.264 + AAC), ${SECONDS} s windows, one recorder per stream`);
    console.log('| recorders | CPU % of one core | CPU per recording | RSS MB | RSS per recording | written MB/s | event-loop p99 ms | dropped |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, w] of rows) {
      const per = name === 'no recorder' ? '' : `${((w.cpuPercent - base.cpuPercent) / STREAMS).toFixed(3)} %`;
      const rssPer = name === 'no recorder' ? '' : `${(((w.rssMb - base.rssMb) * 1024) / STREAMS).toFixed(0)} KB`;
      console.log(
        `| ${name} | ${w.cpuPercent.toFixed(1)} | ${per} | ${w.rssMb.toFixed(0)} | ${rssPer} | ${(w.bytesPerSecond / 1e6).toFixed(2)} | ${w.loopP99Ms.toFixed(1)} | ${w.drops} |`,
      );
    }
  } finally {
    for (const s of sources) s.stop('bench done');
    await gw.stop();
  }
}

function indexRound(dir: string): void {
  const db = openDatabase(join(dir, 'index'), silentLogger());
  const repo = new RecordingsRepo(db);
  const start = Date.UTC(2025, 0, 1);
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const cam = 'live/cam0';
      const startMs = start + i * 60_000;
      repo.insert(
        {
          path: cam,
          format: 'flv',
          file: `${cam}/${i}.flv`,
          startMs,
          endMs: startMs + 60_000,
          bytes: 15_000_000,
          videoCodec: 'h264',
          width: 1920,
          height: 1080,
          audioCodec: 'aac',
          keyframes: 30,
          status: 'complete',
          planId: 'p',
          reason: 'plan',
        },
        0,
      );
    }
  })();
  const insertS = (performance.now() - t0) / 1000;
  const span = ROWS * 60_000;
  const times: number[] = [];
  let found = 0;
  for (let q = 0; q < QUERIES; q++) {
    const from = start + Math.floor(Math.random() * (span - 3_600_000));
    const t = performance.now();
    found += repo.find({ path: 'live/cam0', startMs: from, endMs: from + 3_600_000 }).length;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number): number => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
  const days = performance.now();
  repo.days('live/cam0', start, start + 31 * 86_400_000, 'Asia/Shanghai');
  const daysMs = performance.now() - days;
  console.log(
    `\nIndex: ${ROWS} rows of one camera, inserted in ${insertS.toFixed(1)} s; ${QUERIES} random one-hour queries of one camera (${(found / QUERIES).toFixed(1)} rows each)`,
  );
  console.log(`| query | p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- |\n| find one hour | ${pct(50).toFixed(3)} | ${pct(99).toFixed(3)} | ${times.at(-1)!.toFixed(3)} |`);
  console.log(`days() of one month: ${daysMs.toFixed(1)} ms`);
  db.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-rec-bench-'));
  try {
    indexRound(dir);
    await recordingRound(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
