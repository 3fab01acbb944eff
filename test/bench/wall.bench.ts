/**
 * The console's 4x4 wall (issue 12): 16 640x360 streams (one ffmpeg encode re-published 16
 * times, every frame stamped with the wall clock in its top rows) on a gateway started as its own
 * process, opened in headless Chromium at `/wall?layout=4x4&paths=...` for `--seconds` (60).
 * Per tile: time to first frame from the page opening, frames decoded, stalls (1-s windows
 * without a new frame, and `waiting` events), and how far behind live the frame on screen is
 * (now minus the stamp read from the picture, sampled twice a second: this covers encode, RTMP,
 * the gateway, WebSocket-FLV, the player's buffer and decode). Gateway CPU from /proc.
 *
 *   npm run bench:wall -- [--seconds 60] [--tiles 16]
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { ffmpegPath, startTool } from '../helpers/media-tools';
import { manyPublisherArgs } from '../helpers/publisher';
import { BENCH_SECRETS, Resources, startGateway } from './servers';
import { clockTicksPerSecond, machineBusySeconds, processTreeCpuSeconds } from './proc-stats';
import { median } from './report';

interface TileNumbers {
  path: string;
  firstFrameMs: number | null;
  frames: number;
  stalls: number;
  waiting: number;
  lags: number[];
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Installed before the console loads: watches every tile's <video>, its first frame, stalls, and the clock stamp on screen. */
function watchTiles(): void {
  interface Watch {
    firstFrameMs: number | null;
    frames: number;
    lastFrames: number;
    stalls: number;
    waiting: number;
    lags: number[];
    seen: boolean;
  }
  const tiles: Record<string, Watch> = {};
  (window as unknown as { wallBench: Record<string, Watch> }).wallBench = tiles;
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 16;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const videos = (): HTMLVideoElement[] => Array.from(document.querySelectorAll<HTMLVideoElement>('video[data-path]'));
  const watch = (video: HTMLVideoElement): Watch => {
    const path = video.dataset.path ?? '';
    let w = tiles[path];
    if (!w) {
      w = { firstFrameMs: null, frames: 0, lastFrames: 0, stalls: 0, waiting: 0, lags: [], seen: false };
      tiles[path] = w;
    }
    if (!w.seen) {
      w.seen = true;
      video.addEventListener('waiting', () => w!.waiting++);
    }
    return w;
  };
  setInterval(() => {
    for (const video of videos()) {
      const w = watch(video);
      w.frames = video.getVideoPlaybackQuality().totalVideoFrames;
      if (w.firstFrameMs === null && w.frames > 0) w.firstFrameMs = performance.now();
    }
  }, 20);
  setInterval(() => {
    for (const video of videos()) {
      const w = watch(video);
      if (w.firstFrameMs !== null && w.frames <= w.lastFrames) w.stalls++;
      w.lastFrames = w.frames;
    }
  }, 1000);
  // The stamp: 32 blocks of 20 px (at 640 wide), white = 1, bit 31 first, Date.now() mod 2^32.
  setInterval(() => {
    if (!context) return;
    for (const video of videos()) {
      if (!video.videoWidth) continue;
      context.drawImage(video, 0, 0, video.videoWidth, (16 * video.videoWidth) / 640, 0, 0, 640, 16);
      const now = Date.now();
      const row = context.getImageData(0, 8, 640, 1).data;
      let stamp = 0;
      for (let bit = 0; bit < 32; bit++) stamp = stamp * 2 + ((row[(bit * 20 + 10) * 4] ?? 0) > 128 ? 1 : 0);
      const lag = (now - stamp + 2 ** 32) % 2 ** 32;
      if (lag < 60_000) watch(video).lags.push(lag);
    }
  }, 500);
}

async function readTiles(page: Page): Promise<TileNumbers[]> {
  return page.evaluate(() => {
    const tiles = (window as unknown as { wallBench: Record<string, { firstFrameMs: number | null; frames: number; stalls: number; waiting: number; lags: number[] }> }).wallBench;
    return Object.entries(tiles).map(([path, w]) => ({ path, firstFrameMs: w.firstFrameMs, frames: w.frames, stalls: w.stalls, waiting: w.waiting, lags: [...w.lags] }));
  });
}

const fmt = (n: number | null | undefined, digits = 0): string => (n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

async function main(): Promise<void> {
  const seconds = arg('seconds', 60);
  const count = arg('tiles', 16);
  const hz = clockTicksPerSecond();
  const resources = new Resources();
  process.once('exit', () => resources.killAll());
  const root = join(__dirname, '..', '..', '..');
  const gateway = await startGateway(root, resources);
  const base = `http://127.0.0.1:${gateway.httpPort}`;
  const paths = Array.from({ length: count }, (_, i) => `bench/wall${i + 1}`);
  const urls = paths.map((p) => `rtmp://127.0.0.1:${gateway.rtmpPort}/${p}?key=${BENCH_SECRETS.publishKey}`);
  const publisher = startTool(ffmpegPath, manyPublisherArgs(urls, { size: '640x360', rate: 25, bitrate: '300k', clockStamp: true }));
  const browser = await launchChromium();
  try {
    const ready = async (): Promise<number> => {
      const res = await fetch(`${base}/api/streams`, { headers: { authorization: `Bearer ${BENCH_SECRETS.secret}` } });
      const { streams } = (await res.json()) as { streams: { path: string; ready: boolean }[] };
      return streams.filter((s) => s.ready && paths.includes(s.path)).length;
    };
    for (let i = 0; (await ready()) < count; i++) {
      if (i > 200) throw new Error(`the ${count} streams did not come up: ${publisher.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const login = await page.request.post(`${base}/api/auth/login`, { data: { secret: BENCH_SECRETS.secret } });
    if (!login.ok()) throw new Error(`login: ${login.status()}`);
    await page.addInitScript(watchTiles);
    const cpuStart = processTreeCpuSeconds(gateway.process.pid, hz) ?? 0;
    const busyStart = machineBusySeconds(hz);
    const wallStart = performance.now();
    await page.goto(`${base}/wall?layout=${count > 9 ? '4x4' : '3x3'}&paths=${paths.join(',')}`);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const elapsed = (performance.now() - wallStart) / 1000;
    const tiles = await readTiles(page);
    const cpu = ((processTreeCpuSeconds(gateway.process.pid, hz) ?? 0) - cpuStart) / elapsed;
    const machine = (machineBusySeconds(hz) - busyStart) / elapsed;
    report(tiles, paths, seconds, cpu, machine);
    await page.close();
  } finally {
    await browser.close();
    await publisher.stop();
    await gateway.stop();
  }
}

function report(tiles: TileNumbers[], paths: string[], seconds: number, cpu: number, machine: number): void {
  console.log(`# 4x4 wall bench: ${paths.length} tiles of 640x360 H.264 25 fps 300 kb/s (one encode re-published), ${seconds} s, headless Chromium 1280x720`);
  console.log('tile | first frame ms | frames | fps | stalled s | waiting | behind live ms: median | p95 | max | median first 10 s | median last 10 s');
  const rows = paths.map((path) => {
    const t = tiles.find((x) => x.path === path);
    const lags = t?.lags ?? [];
    const sorted = [...lags].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)];
    const perSecond = 2;
    const first = lags.slice(0, 10 * perSecond);
    const last = lags.slice(-10 * perSecond);
    console.log(
      [
        path,
        fmt(t?.firstFrameMs),
        t?.frames ?? 0,
        fmt((t?.frames ?? 0) / seconds, 1),
        t?.stalls ?? '-',
        t?.waiting ?? '-',
        fmt(median(lags)),
        fmt(p95),
        fmt(sorted.at(-1)),
        fmt(median(first)),
        fmt(median(last)),
      ].join(' | '),
    );
    return { first: t?.firstFrameMs ?? Number.NaN, lag: median(lags), stalls: t?.stalls ?? 0 };
  });
  const firsts = rows.map((r) => r.first).filter(Number.isFinite);
  console.log(
    `# first frame: median ${fmt(median(firsts))} ms, max ${fmt(Math.max(...firsts))} ms (${firsts.filter((f) => f < 1000).length}/${paths.length} under 1 s); ` +
      `behind live median of tile medians ${fmt(median(rows.map((r) => r.lag)))} ms; tiles with a stall ${rows.filter((r) => r.stalls > 0).length}`,
  );
  console.log(
    `# gateway CPU ${fmt(cpu * 100, 1)}% of one core; whole machine busy ${fmt(machine * 100, 0)}% of one core (2 cores, shared with the other engineers' builds and tests)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
