import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { TEST_SECRETS, startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { launchChromium, saveScreenshot } from '../helpers/browser';
import { ffmpegPath, runTool, startTool } from '../helpers/media-tools';
import { startRtspPublisher, startRtspServer, waitForPublishing, type RtspTestServer } from '../helpers/rtsp-server';
import { listRecordings, recordDir } from '../helpers/recordings';

/**
 * The console pages on one gateway and one browser: G.711 camera audio heard in a tile (an
 * RTSP camera sending a 440 Hz tone in A-law), playback from a clicked instant of a recording,
 * the record-plan grid saved through the API, and a management page in Chinese.
 *
 * The recorded stream's picture is one colour whose hue turns at 9°/s (ffmpeg's hue filter), so
 * the instant on screen can be read back from a pixel: the angle of its (U, V) chroma.
 */
const HUE_PERIOD_S = 40;
const DEG_PER_S = 360 / HUE_PERIOD_S;
const GOP_S = 1;

let gw: TestGateway;
let browser: Browser;
let camera: RtspTestServer;
let cameraPublisher: ReturnType<typeof startRtspPublisher>;
let huePublisher: ReturnType<typeof startTool>;

before(async () => {
  camera = await startRtspServer('rtsp-streaming-server');
  cameraPublisher = startRtspPublisher(camera.publishUrl('live/g711'), { transport: 'udp', audio: 'pcma' });
  gw = await startTestGateway({ GW_RECORD_TIMEZONE: 'Asia/Shanghai' });
  huePublisher = startTool(ffmpegPath, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `color=c=0xa06060:s=320x240:r=25,format=yuv420p,hue=H=2*PI*t/${HUE_PERIOD_S}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    String(25 * GOP_S),
    '-bf',
    '0',
    '-f',
    'flv',
    gw.publishUrl('live/hue'),
  ]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await huePublisher?.stop();
  await cameraPublisher?.stop();
  await camera?.stop();
  await gw?.stop();
});

async function login(page: Page, path: string): Promise<void> {
  await page.goto(`${gw.httpUrl}${path}`);
  await page.waitForSelector('#login:not([hidden])', { timeout: 10_000 });
  await page.fill('#secret', TEST_SECRETS.secret);
  await page.click('#login button');
  await page.waitForSelector('#login[hidden]', { state: 'attached', timeout: 10_000 });
}

/** The (U, V) angle of a colour, degrees (BT.601): what the hue filter turns. */
function chromaAngle([r, g, b]: readonly number[]): number {
  const u = -0.169 * r! - 0.331 * g! + 0.5 * b!;
  const v = 0.5 * r! - 0.419 * g! - 0.081 * b!;
  return (Math.atan2(v, u) * 180) / Math.PI;
}

/** `a - b` in degrees, in (-180, 180]. */
function angleDelta(a: number, b: number): number {
  const d = ((((a - b) % 360) + 540) % 360) - 180;
  return d === -180 ? 180 : d;
}

/** The first frame's colour of a recorded file, decoded by ffmpeg. */
async function firstFrameColour(file: string): Promise<number[]> {
  const out = join(tmpdir(), `first-frame-${process.pid}.rgb`);
  const result = await runTool(ffmpegPath, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-i',
    file,
    '-frames:v',
    '1',
    '-vf',
    'scale=1:1',
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    out,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const rgb = [...readFileSync(out)];
  rmSync(out, { force: true });
  return rgb;
}

test('console pages: G.711 tone in a tile, playback from a clicked instant, the record-plan grid, Chinese labels', { timeout: 120_000 }, async () => {
  await waitForPublishing(cameraPublisher);
  const proxy = await gw.api('POST', '/api/proxies', { path: 'cams/g711', url: camera.playUrl('live/g711'), transport: 'udp' });
  assert.equal(proxy.statusCode, 201, proxy.body);
  await waitFor(() => gw.gateway.registry.get('live/hue')?.ready, 15_000, 'the hue stream');
  const started = await gw.api('POST', '/api/record/start', { path: 'live/hue', formats: ['flv'], durationSeconds: 60 });
  assert.equal(started.statusCode, 200, started.body);
  const recordingSince = Date.now();
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  try {
    await login(page, '/wall?layout=1&paths=cams/g711');
    await checkAudio(page);
    // At least 8 s recorded before playing it back.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 8000 - (Date.now() - recordingSince))));
    assert.equal((await gw.api('POST', '/api/record/stop', { path: 'live/hue' })).statusCode, 200);
    await checkPlayback(page);
    await checkPlanGrid(page);
    await checkChinese(page);
  } finally {
    await page.close();
  }
});

async function checkAudio(page: Page): Promise<void> {
  const toggle = 'button.audio-toggle[data-path="cams/g711"]';
  await page.waitForSelector(`${toggle}:not([hidden])`, { timeout: 20_000 });
  assert.equal(await page.getAttribute(toggle, 'data-state'), 'muted', 'muted by default');
  await page.waitForFunction(
    () => ((document.querySelector('video[data-path="cams/g711"]') as HTMLVideoElement | null)?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > 5,
    undefined,
    { timeout: 20_000 },
  );
  await page.click(toggle);
  const measured = await page.waitForFunction(
    (selector) => {
      const b = document.querySelector(selector) as HTMLElement | null;
      const rms = Number(b?.dataset.rms ?? 0);
      return rms > 0.05 ? { rms, peakHz: Number(b?.dataset.peakHz ?? 0), state: b?.dataset.state } : false;
    },
    toggle,
    { timeout: 15_000 },
  );
  const level = (await measured.jsonValue()) as { rms: number; peakHz: number; state: string };
  assert.equal(level.state, 'playing');
  assert.ok(Math.abs(level.peakHz - 440) < 25, `the analyser's strongest bin is the 440 Hz tone: ${level.peakHz} Hz`);
  await saveScreenshot(page, 'console-pages-g711-tile');
}

async function checkPlayback(page: Page): Promise<void> {
  const [segment] = (await listRecordings(gw, 'live/hue')).recordings;
  assert.ok(segment, 'a recording of live/hue');
  const startAngle = chromaAngle(await firstFrameColour(join(recordDir(gw), segment.file)));
  await page.goto(`${gw.httpUrl}/playback?path=live/hue`);
  await page.waitForSelector('#timeline .recorded', { timeout: 15_000 });
  assert.ok(await page.$('.calendar button.day.has-recordings.chosen'), 'today is marked as a day with recordings and chosen');
  // Zoom around the recording from 24 h to 5 min (the wheel zooms around the pointer).
  for (let i = 0; i < 7; i++) {
    const box = (await page.locator('#timeline .recorded').first().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -100);
  }
  const view = await page.$eval('#timeline', (t) => ({ start: Number((t as HTMLElement).dataset.viewStart), end: Number((t as HTMLElement).dataset.viewEnd) }));
  assert.ok(view.end - view.start <= 5 * 60_000 + 1, `zoomed to minutes: ${view.end - view.start} ms`);
  await saveScreenshot(page, 'console-pages-playback-timeline');
  const target = segment.startMs + 4000;
  const track = (await page.locator('#timeline').boundingBox())!;
  await page.mouse.click(track.x + ((target - view.start) / (view.end - view.start)) * track.width, track.y + track.height / 2);
  await page.waitForFunction(() => ((document.querySelector('.playback-stage video') as HTMLVideoElement | null)?.currentTime ?? 0) > 0.5, undefined, { timeout: 20_000 });
  const clicked = Number(await page.getAttribute('.playback-stage video', 'data-playback-start'));
  assert.ok(Math.abs(clicked - target) < 1000, `the click asked for ${clicked - target} ms from the aimed instant`);
  const samples = await page.evaluate(async () => {
    const video = document.querySelector('.playback-stage video') as HTMLVideoElement;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 8;
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    const out: { rgb: number[]; t: number }[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => video.requestVideoFrameCallback(() => resolve()));
      g.drawImage(video, 0, 0, 8, 8);
      const d = g.getImageData(4, 4, 1, 1).data;
      out.push({ rgb: [d[0]!, d[1]!, d[2]!], t: video.currentTime });
    }
    return out;
  });
  // Wall time of the range's first frame = the instant on screen minus how far the video has played.
  const firsts = samples.map((s) => segment.startMs + (angleDelta(chromaAngle(s.rgb), startAngle) / DEG_PER_S) * 1000 - s.t * 1000).sort((a, b) => a - b);
  const first = firsts[firsts.length >> 1]!;
  assert.ok(first <= clicked + 400 && first >= clicked - GOP_S * 1000 - 400, `playback starts within one GOP before the clicked instant: ${Math.round(first - clicked)} ms`);
  await saveScreenshot(page, 'console-pages-playback-playing');
  await page.mouse.move(track.x + track.width * 0.3, track.y + track.height / 2);
  await page.mouse.down();
  await page.mouse.move(track.x + track.width * 0.6, track.y + track.height / 2, { steps: 5 });
  await page.mouse.up();
  const href = await page.getAttribute('#playback-download:not([hidden])', 'href');
  assert.match(href ?? '', /\/record\/live\/hue\.mp4\?start=\d+&end=\d+&download=1/);
}

async function checkPlanGrid(page: Page): Promise<void> {
  await page.goto(`${gw.httpUrl}/record-plans`);
  await page.waitForSelector('#week-grid');
  await page.fill('#plan-id', 'e2e-grid');
  await page.fill('#plan-streams', 'live/hue');
  const from = (await page.locator('#week-grid td[data-day="0"][data-hour="8"]').boundingBox())!;
  const to = (await page.locator('#week-grid td[data-day="4"][data-hour="17"]').boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 8 });
  await page.mouse.up();
  assert.equal(await page.textContent('#weekly-text'), 'mon-fri 08:00-18:00');
  await page.click('#save-plan');
  await page.waitForSelector('text=e2e-grid', { timeout: 10_000 });
  await saveScreenshot(page, 'console-pages-record-plan-grid');
  const plan = JSON.parse((await gw.api('GET', '/api/record/plans/e2e-grid')).body) as { when: string; weekly: string; streams: string[]; weeklyHours: string[] };
  assert.deepEqual([plan.when, plan.weekly, plan.streams], ['weekly', 'mon-fri 08:00-18:00', ['live/hue']]);
  assert.equal(plan.weeklyHours[0], '000000001111111111000000');
  assert.equal(plan.weeklyHours[5], '0'.repeat(24));
}

async function checkChinese(page: Page): Promise<void> {
  await page.goto(`${gw.httpUrl}/relays`);
  await page.waitForSelector('#proxies code', { timeout: 10_000 });
  assert.equal(await page.textContent('#proxies code'), 'cams/g711');
  await saveScreenshot(page, 'console-pages-relays');
  await page.evaluate(() => localStorage.setItem('gw.lang', 'zh-CN'));
  await page.goto(`${gw.httpUrl}/streams`);
  await page.waitForSelector('table.grid-table th', { timeout: 10_000 });
  assert.equal(await page.textContent('.manage-page h2'), '直播流');
  const headers = await page.$$eval('table.grid-table th', (ths) => ths.map((th) => th.textContent));
  assert.ok(headers.includes('观看者') && headers.includes('推流端'), headers.join(' | '));
  await saveScreenshot(page, 'console-pages-streams-zh');
  await page.goto(`${gw.httpUrl}/health`);
  await page.waitForSelector('table.ports');
  assert.ok((await page.textContent('.manage-page'))?.includes('已绑定端口'));
  await saveScreenshot(page, 'console-pages-health-zh');
  await page.goto(`${gw.httpUrl}/manage-devices`);
  await page.waitForSelector('.add-form h3');
  assert.equal(await page.textContent('.add-form h3'), '预置设备（注册之前）');
  await saveScreenshot(page, 'console-pages-devices-zh');
  await page.evaluate(() => localStorage.setItem('gw.lang', 'en'));
}
