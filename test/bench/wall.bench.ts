/**
 * The console's wall (issue 12): N streams (one ffmpeg encode re-published N times, every frame
 * stamped with the wall clock in its top rows) on a gateway started as its own process, opened
 * in headless Chromium at `/wall?layout=4x4&paths=...` (3x3 up to 9 tiles) for `--seconds`.
 * Per tile: time to first frame from the page opening, frames decoded, stalls (1-s windows
 * without a new frame), `waiting` events and the player's seeks (latency chasing), and how far
 * behind live the frame on screen is (now minus the stamp read from the picture, sampled twice a
 * second: encode, RTMP, the gateway, WebSocket-FLV, the player's buffer and decode). CPU of the
 * gateway, of Chromium (all its processes) and of the encoder from /proc, and the load average,
 * so a reader can tell the gateway's limit from the machine's.
 *
 *   npm run bench:wall -- [--seconds 60] [--tiles 16] [--size 480x270] [--rate 25] [--kbps 300]
 *
 * A 1080p 4x4 wall shows tiles of at most 480x270, hence the default size.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { ffmpegPath, startTool } from '../helpers/media-tools';
import { manyPublisherArgs } from '../helpers/publisher';
import { BENCH_SECRETS, Resources, startGateway } from './servers';
import { clockTicksPerSecond, machineBusySeconds, processCpuSeconds, processTree, processTreeCpuSeconds } from './proc-stats';
import { median } from './report';

interface TileNumbers {
  path: string;
  firstFrameMs: number | null;
  frames: number;
  stalls: number;
  waiting: number;
  seeks: number;
  lags: number[];
}

function text(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
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
    seeks: number;
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
      w = { firstFrameMs: null, frames: 0, lastFrames: 0, stalls: 0, waiting: 0, seeks: 0, lags: [], seen: false };
      tiles[path] = w;
    }
    if (!w.seen) {
      w.seen = true;
      video.addEventListener('waiting', () => w!.waiting++);
      video.addEventListener('seeking', () => w!.seeks++);
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
    const tiles = (window as unknown as { wallBench: Record<string, Omit<TileNumbers, 'path'>> }).wallBench;
    return Object.entries(tiles).map(([path, w]) => ({
      path,
      firstFrameMs: w.firstFrameMs,
      frames: w.frames,
      stalls: w.stalls,
      waiting: w.waiting,
      seeks: w.seeks,
      lags: [...w.lags],
    }));
  });
}

const fmt = (n: number | null | undefined, digits = 0): string => (n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

interface Setup {
  seconds: number;
  count: number;
  size: string;
  rate: number;
  kbps: number;
}

/** CPU seconds so far of the gateway, of Chromium (every process under this one but the gateway's and the encoder's) and of the encoder. */
function cpuNow(hz: number, gatewayPid: number, encoderPid: number): { gateway: number; browser: number; encoder: number } {
  const others = new Set([process.pid, ...processTree(gatewayPid), ...processTree(encoderPid)]);
  const browser = processTree(process.pid)
    .filter((pid) => !others.has(pid))
    .reduce((sum, pid) => sum + (processCpuSeconds(pid, hz) ?? 0), 0);
  return { gateway: processTreeCpuSeconds(gatewayPid, hz) ?? 0, browser, encoder: processTreeCpuSeconds(encoderPid, hz) ?? 0 };
}

async function main(): Promise<void> {
  const setup: Setup = { seconds: arg('seconds', 60), count: arg('tiles', 16), size: text('size', '480x270'), rate: arg('rate', 25), kbps: arg('kbps', 300) };
  const { seconds, count } = setup;
  const hz = clockTicksPerSecond();
  const resources = new Resources();
  process.once('exit', () => resources.killAll());
  const root = join(__dirname, '..', '..', '..');
  const gateway = await startGateway(root, resources);
  const base = `http://127.0.0.1:${gateway.httpPort}`;
  const paths = Array.from({ length: count }, (_, i) => `bench/wall${i + 1}`);
  const urls = paths.map((p) => `rtmp://127.0.0.1:${gateway.rtmpPort}/${p}?key=${BENCH_SECRETS.publishKey}`);
  const publisher = startTool(ffmpegPath, manyPublisherArgs(urls, { size: setup.size, rate: setup.rate, bitrate: `${setup.kbps}k`, clockStamp: true }));
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
    const encoderPid = publisher.child.pid ?? -1;
    const cpuStart = cpuNow(hz, gateway.process.pid, encoderPid);
    const busyStart = machineBusySeconds(hz);
    const loadStart = loadavg()[0] ?? 0;
    const wallStart = performance.now();
    // When each tile's WebSocket opened and its first bytes came, from the page opening: the
    // gateway's and the network's part of the first frame, apart from the browser's decode.
    const sockets = new Map<string, { openMs: number; firstDataMs?: number }>();
    page.on('websocket', (ws) => {
      const path = new URL(ws.url()).pathname.slice(1).replace(/\.flv$/, '');
      const entry = { openMs: performance.now() - wallStart } as { openMs: number; firstDataMs?: number };
      if (!sockets.has(path)) sockets.set(path, entry);
      ws.once('framereceived', () => (entry.firstDataMs = performance.now() - wallStart));
    });
    await page.goto(`${base}/wall?layout=${count > 9 ? '4x4' : '3x3'}&paths=${paths.join(',')}`);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const elapsed = (performance.now() - wallStart) / 1000;
    const tiles = await readTiles(page);
    const cpuEnd = cpuNow(hz, gateway.process.pid, encoderPid);
    const share = (k: keyof typeof cpuEnd): number => (cpuEnd[k] - cpuStart[k]) / elapsed;
    const machine = (machineBusySeconds(hz) - busyStart) / elapsed;
    report(tiles, paths, setup, sockets, { gateway: share('gateway'), browser: share('browser'), encoder: share('encoder'), machine, load: [loadStart, loadavg()[0] ?? 0] });
    await page.close();
  } finally {
    await browser.close();
    await publisher.stop();
    await gateway.stop();
  }
}

interface Cpu {
  gateway: number;
  browser: number;
  encoder: number;
  machine: number;
  load: [number, number];
}

function report(tiles: TileNumbers[], paths: string[], setup: Setup, sockets: Map<string, { openMs: number; firstDataMs?: number }>, cpu: Cpu): void {
  const { seconds } = setup;
  console.log(
    `# wall bench: ${paths.length} tiles (${paths.length > 9 ? '4x4' : '3x3'}) of ${setup.size} H.264 ${setup.rate} fps ${setup.kbps} kb/s (one encode re-published), ${seconds} s, headless Chromium 1280x720`,
  );
  console.log(
    'tile | WebSocket opened ms | first bytes ms | first frame ms | frames | fps | stalled s | waiting | seeks | behind live ms: median | p95 | max | median first 10 s | median last 10 s',
  );
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
        fmt(sockets.get(path)?.openMs),
        fmt(sockets.get(path)?.firstDataMs),
        fmt(t?.firstFrameMs),
        t?.frames ?? 0,
        fmt((t?.frames ?? 0) / seconds, 1),
        t?.stalls ?? '-',
        t?.waiting ?? '-',
        t?.seeks ?? '-',
        fmt(median(lags)),
        fmt(p95),
        fmt(sorted.at(-1)),
        fmt(median(first)),
        fmt(median(last)),
      ].join(' | '),
    );
    return { first: t?.firstFrameMs ?? Number.NaN, lag: median(lags), stalls: t?.stalls ?? 0, waiting: t?.waiting ?? 0, fps: (t?.frames ?? 0) / seconds };
  });
  const firsts = rows.map((r) => r.first).filter(Number.isFinite);
  console.log(
    `# first frame: median ${fmt(median(firsts))} ms, max ${fmt(Math.max(...firsts))} ms (${firsts.filter((f) => f < 1000).length}/${paths.length} under 1 s); ` +
      `behind live median of tile medians ${fmt(median(rows.map((r) => r.lag)))} ms; tiles with a stall ${rows.filter((r) => r.stalls > 0).length}; ` +
      `waiting events per tile per 10 s: median ${fmt((median(rows.map((r) => r.waiting)) * 10) / seconds, 1)}; decoded fps per tile median ${fmt(median(rows.map((r) => r.fps)), 1)} of ${setup.rate}`,
  );
  console.log(
    `# CPU (% of one core): gateway ${fmt(cpu.gateway * 100, 1)}, Chromium ${fmt(cpu.browser * 100, 0)}, encoder (ffmpeg) ${fmt(cpu.encoder * 100, 0)}; ` +
      `whole machine busy ${fmt(cpu.machine * 100, 0)} of 200 (2 cores, shared with the other engineers' builds and tests); load average ${cpu.load[0].toFixed(2)} -> ${cpu.load[1].toFixed(2)}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
