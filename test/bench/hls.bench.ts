/**
 * HLS / HTTP-TS benchmark: prints numbers, asserts nothing.
 *
 *   npm run bench:hls -- [--streams 2] [--viewers 4] [--seconds 8] [--no-browser]
 *   (npm run build && node --expose-gc dist/test/bench/hls.bench.js ...; --expose-gc makes the memory figures steadier)
 *
 * The gateway runs in this process (its CPU is this process's CPU); viewers run in a child node
 * process, the publisher is ffmpeg, the HLS player is hls.js in headless Chromium.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log';
import type { Frame } from '../../src/core/frame';
import { TsFeeds, TsMuxer, type TsConsumer } from '../../src/formats/mpegts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { readFlvFrames, startFlvFileSource } from '../helpers/flv-file-source';
import { ffmpegPath, runTool } from '../helpers/media-tools';
import { publishTestPattern, testPatternArgs } from '../helpers/publisher';
import { launchChromium } from '../helpers/browser';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const STREAMS = arg('streams', 2);
const VIEWERS = arg('viewers', 4);
const SECONDS = arg('seconds', 8);
const BROWSER = !args.includes('--no-browser');

const dir = mkdtempSync(join(tmpdir(), 'gw-hls-bench-'));
const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU of this process (the gateway) over `ms`, as % of one core. */
async function cpuOver(ms: number): Promise<number> {
  const start = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100;
}

async function makeCamera(file: string): Promise<void> {
  const result = await runTool(
    ffmpegPath,
    testPatternArgs(file, { size: '1280x720', gop: 50, bframes: 0, bitrate: '2M', maxrate: '2M', bufsize: '1M', audioBitrate: '64k', seconds: 8, realtime: false }),
    120_000,
  );
  if (result.code !== 0) throw new Error(result.stderr);
}

/** Pure muxing cost: the whole clip muxed repeatedly. */
function muxMicrobench(media: { tracks: ReturnType<typeof readFlvFrames>['tracks']; frames: Frame[] }): void {
  const clipSeconds = (media.frames.at(-1)!.dts - media.frames[0]!.dts) / 90_000;
  const muxer = new TsMuxer();
  muxer.setTracks(media.tracks);
  let bytesIn = 0;
  let bytesOut = 0;
  let rounds = 0;
  const start = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    for (const frame of media.frames) {
      bytesIn += frame.byteLength;
      bytesOut += muxer.frame(frame)?.data.length ?? 0;
    }
    rounds++;
  }
  const cpu = process.cpuUsage(start);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const mediaSeconds = rounds * clipSeconds;
  console.log(
    `TS muxing (pure): ${(mediaSeconds / (cpuMs / 1000)).toFixed(0)}x real time; ${((cpuMs / mediaSeconds) * 1000).toFixed(0)} us CPU per media second = ${(cpuMs / mediaSeconds / 10).toFixed(3)} % of a core per ${((bytesIn * 8) / mediaSeconds / 1e6).toFixed(1)} Mbit/s stream; TS overhead ${(((bytesOut - bytesIn) / bytesIn) * 100).toFixed(1)} %`,
  );
}

/** The viewers, in a child process so that their CPU is not the gateway's. */
const CLIENT = `
const [base, mode, streams, viewers, seconds] = process.argv.slice(2);
const end = Date.now() + Number(seconds) * 1000;
let requests = 0, bytes = 0, errors = 0;
async function hlsViewer(path) {
  const master = await (await fetch(base + '/' + path + '/index.m3u8')).text();
  const media = new URL(master.trim().split('\\n').pop(), base + '/' + path + '/').toString();
  let next = -1;
  while (Date.now() < end) {
    const text = await (await fetch(media)).text(); requests++;
    const seq = Number(/MEDIA-SEQUENCE:(\\d+)/.exec(text)[1]);
    const uris = text.split('\\n').filter((l) => l && !l.startsWith('#'));
    if (next < 0) next = seq + Math.max(0, uris.length - 3);
    for (let i = 0; i < uris.length; i++) {
      if (seq + i < next) continue;
      const res = await fetch(new URL(uris[i], media)); const buf = await res.arrayBuffer();
      requests++; bytes += buf.byteLength; if (res.status !== 200) errors++; next = seq + i + 1;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
async function segmentBurst(path) {
  const master = await (await fetch(base + '/' + path + '/index.m3u8')).text();
  const media = new URL(master.trim().split('\\n').pop(), base + '/' + path + '/').toString();
  const text = await (await fetch(media)).text();
  const uri = new URL(text.split('\\n').filter((l) => l && !l.startsWith('#')).pop(), media);
  while (Date.now() < end) {
    const res = await fetch(uri); const buf = await res.arrayBuffer();
    requests++; bytes += buf.byteLength; if (res.status !== 200) errors++;
  }
}
async function tsViewer(path) {
  const res = await fetch(base + '/' + path + '.ts'); const reader = res.body.getReader();
  while (Date.now() < end) { const { value, done } = await reader.read(); if (done) break; bytes += value.length; }
  await reader.cancel(); requests++;
}
const run = { hls: hlsViewer, burst: segmentBurst, ts: tsViewer }[mode];
Promise.all(Array.from({ length: Number(viewers) }, (_, i) => run('bench/cam' + (i % Number(streams))))).then(() => {
  console.log(JSON.stringify({ requests, bytes, errors }));
}, (err) => { console.log(JSON.stringify({ requests, bytes, errors: errors + 1, err: String(err) })); });
`;

function runClients(gw: TestGateway, mode: 'hls' | 'burst' | 'ts', seconds: number): Promise<{ requests: number; bytes: number; errors: number }> {
  const file = join(dir, 'client.js');
  writeFileSync(file, CLIENT);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, gw.httpUrl, mode, String(STREAMS), String(VIEWERS), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as { requests: number; bytes: number; errors: number });
      } catch (err) {
        reject(new Error(`client output: ${out}: ${String(err)}`));
      }
    });
  });
}

async function liveStreams(gw: TestGateway, media: ReturnType<typeof readFlvFrames>): Promise<void> {
  const sources = Array.from({ length: STREAMS }, (_, i) => startFlvFileSource(gw.gateway.registry, `bench/cam${i}`, media));
  try {
    await sleep(1000);
    const idle = await cpuOver(SECONDS * 500);
    console.log(`\n${STREAMS} live streams (720p 2 Mbit/s + AAC), no viewer: gateway CPU ${idle.toFixed(1)} %`);
    const feeds = new TsFeeds(gw.gateway.registry, silentLogger());
    const noop: TsConsumer = { onChunk: () => undefined, onEnd: () => undefined };
    const attached = await Promise.all(sources.map((_, i) => feeds.attach(`bench/cam${i}`, noop)));
    const muxing = await cpuOver(SECONDS * 500);
    console.log(`TS muxing live (one feed per stream, no viewer): +${((muxing - idle) / STREAMS).toFixed(2)} % of a core per stream`);
    for (const a of attached) a.detach();
    global.gc?.();
    const rssBefore = process.memoryUsage();
    const hlsRun = runClients(gw, 'hls', SECONDS + 16);
    await sleep(16_000); // fill the window (6 x 2 s) and the extra segments
    const hlsCpu = await cpuOver(SECONDS * 1000);
    const hls = await hlsRun;
    global.gc?.();
    const after = process.memoryUsage();
    const windowBytes = await hlsWindowBytes(gw);
    console.log(
      `HLS: ${VIEWERS} viewers over ${STREAMS} streams: gateway CPU ${hlsCpu.toFixed(1)} % (${((hlsCpu - idle) / STREAMS).toFixed(2)} % per stream over idle); ${hls.requests} requests, ${mb(hls.bytes)} MB, ${hls.errors} errors`,
    );
    console.log(
      `HLS memory: a full window of ${gw.config.hls.windowSegments} segments is ${mb(windowBytes)} MB per stream (x ${((gw.config.hls.windowSegments + 2) / gw.config.hls.windowSegments).toFixed(2)} with the 2 kept after leaving it); RSS ${mb(after.rss - rssBefore.rss)} MB, external+arrayBuffers ${mb(after.external + after.arrayBuffers - rssBefore.external - rssBefore.arrayBuffers)} MB for ${STREAMS} streams`,
    );
    const burstRun = runClients(gw, 'burst', SECONDS);
    const burstCpu = await cpuOver(SECONDS * 1000 - 500);
    const burst = await burstRun;
    console.log(
      `Segment serving (${VIEWERS} clients fetching segments back to back): ${(burst.requests / SECONDS).toFixed(0)} segments/s, ${(burst.bytes / SECONDS / 1048576).toFixed(0)} MB/s, gateway CPU ${burstCpu.toFixed(0)} %, ${burst.errors} errors`,
    );
    const tsRun = runClients(gw, 'ts', SECONDS);
    await sleep(1000);
    const tsCpu = await cpuOver(SECONDS * 1000 - 1500);
    const ts = await tsRun;
    console.log(
      `HTTP-TS: ${VIEWERS} viewers over ${STREAMS} streams: gateway CPU ${tsCpu.toFixed(1)} % (${((tsCpu - idle) / VIEWERS).toFixed(2)} % per viewer over idle), ${((ts.bytes * 8) / SECONDS / 1e6).toFixed(1)} Mbit/s delivered`,
    );
  } finally {
    for (const s of sources) s.stop('bench done');
  }
}

/** Bytes of the segments listed in stream 0's playlist (what the gateway holds per stream, roughly). */
async function hlsWindowBytes(gw: TestGateway): Promise<number> {
  const base = `${gw.httpUrl}/bench/cam0/`;
  const master = await (await fetch(`${base}index.m3u8`)).text();
  const media = new URL(master.trim().split('\n').pop()!, base);
  const text = await (await fetch(media)).text();
  let bytes = 0;
  for (const uri of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
    const res = await fetch(new URL(uri, media), { method: 'HEAD' });
    bytes += Number(res.headers.get('content-length') ?? 0);
  }
  return bytes;
}

async function glassToGlass(): Promise<void> {
  const gw = await startTestGateway();
  const publisher = await publishTestPattern(gw, 'live/latency', { size: '1280x720', gop: 50, bitrate: '2M' });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${gw.httpUrl}/api/health`);
    await page.setContent('<video id="v" muted autoplay playsinline></video>');
    await page.addScriptTag({ path: require.resolve('hls.js/dist/hls.js') });
    const t0 = Date.now();
    await page.evaluate((src) => {
      const w = window as unknown as { Hls: any; hls: any };
      const hls = new w.Hls({ enableWorker: false });
      w.hls = hls;
      hls.loadSource(src);
      hls.attachMedia(document.getElementById('v'));
      void (document.getElementById('v') as HTMLVideoElement).play().catch(() => undefined);
    }, `${gw.httpUrl}/live/latency/index.m3u8`);
    const sample = () =>
      page.evaluate(() => {
        const w = window as unknown as { hls: { playingDate: Date | null; latency: number } };
        const video = document.getElementById('v') as HTMLVideoElement;
        return { frames: video.getVideoPlaybackQuality().totalVideoFrames, pdt: w.hls.playingDate ? Date.now() - w.hls.playingDate.getTime() : null, edge: w.hls.latency };
      });
    await waitFor(async () => (await sample()).frames > 0, 30_000, 'hls.js to show a frame');
    const firstFrameMs = Date.now() - t0;
    const latencies: number[] = [];
    const edges: number[] = [];
    for (let i = 0; i < 10; i++) {
      await sleep(1000);
      const s = await sample();
      if (s.pdt !== null) latencies.push(s.pdt);
      edges.push(s.edge * 1000);
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)] ?? NaN;
    console.log(
      `\nHLS glass-to-glass at defaults (segmentSeconds ${gw.config.hls.segmentSeconds}, window ${gw.config.hls.windowSegments}; ffmpeg -tune zerolatency, GOP 2 s; hls.js defaults):`,
    );
    console.log(
      `  ingest-to-screen (now - EXT-X-PROGRAM-DATE-TIME of the frame on screen): median ${(median / 1000).toFixed(2)} s, min ${(latencies[0]! / 1000).toFixed(2)} s, max ${(latencies.at(-1)! / 1000).toFixed(2)} s`,
    );
    console.log(
      `  hls.js distance to the live edge: ${(edges.reduce((a, b) => a + b, 0) / edges.length / 1000).toFixed(2)} s; first frame on screen ${(firstFrameMs / 1000).toFixed(2)} s after loadSource`,
    );
  } finally {
    await browser.close();
    await publisher.stop();
    await gw.stop();
  }
}

async function main(): Promise<void> {
  console.log(`hls.bench: ${STREAMS} streams, ${VIEWERS} viewers, ${SECONDS} s per phase, node ${process.version}`);
  const flv = join(dir, 'camera.flv');
  await makeCamera(flv);
  const media = readFlvFrames(flv);
  muxMicrobench(media);
  const gw = await startTestGateway();
  try {
    await liveStreams(gw, media);
  } finally {
    await gw.stop();
  }
  if (BROWSER) await glassToGlass();
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
