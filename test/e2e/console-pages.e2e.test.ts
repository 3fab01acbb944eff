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
 * RTSP camera sending a 440 Hz tone in A-law), the same camera's recording heard in playback
 * (unmute, pause, seek, 2x mutes with a word, back at 1x), playback from a clicked instant of a
 * recording whose AAC (a 1 kHz tone) plays through mpegts.js, the record-plan grid saved through
 * the API, and a management page in Chinese.
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
    '-re',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=1000:sample_rate=44100',
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
    '-c:a',
    'aac',
    '-ac',
    '1',
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

test(
  'console pages: G.711 tone in a tile and in playback (pause, seek, 2x), playback from a clicked instant with AAC sound, the record-plan grid, Chinese labels',
  { timeout: 150_000 },
  async () => {
    await waitForPublishing(cameraPublisher);
    const proxy = await gw.api('POST', '/api/proxies', { path: 'cams/g711', url: camera.playUrl('live/g711'), transport: 'udp' });
    assert.equal(proxy.statusCode, 201, proxy.body);
    await waitFor(() => gw.gateway.registry.get('live/hue')?.ready, 15_000, 'the hue stream');
    const started = await gw.api('POST', '/api/record/start', { path: 'live/hue', formats: ['flv'], durationSeconds: 60 });
    assert.equal(started.statusCode, 200, started.body);
    const recordingCam = await gw.api('POST', '/api/record/start', { path: 'cams/g711', formats: ['flv'], durationSeconds: 60 });
    assert.equal(recordingCam.statusCode, 200, recordingCam.body);
    const recordingSince = Date.now();
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    try {
      await login(page, '/wall?layout=1&paths=cams/g711');
      await checkAudio(page);
      // At least 10 s recorded before playing it back.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (Date.now() - recordingSince))));
      assert.equal((await gw.api('POST', '/api/record/stop', { path: 'live/hue' })).statusCode, 200);
      assert.equal((await gw.api('POST', '/api/record/stop', { path: 'cams/g711' })).statusCode, 200);
      await checkPlayback(page);
      await checkPlaybackAudio(page);
      await checkPlanGrid(page);
      await checkChinese(page);
    } finally {
      await page.close();
    }
  },
);

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
  const { track, clickAt } = await openTimeline(page, 'live/hue');
  await saveScreenshot(page, 'console-pages-playback-timeline');
  const target = segment.startMs + 4000;
  const clicked = await clickAt(target);
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
  // AAC plays through mpegts.js itself: the <video>'s own sound, unmuted, carries the 1 kHz tone.
  const aac = await page.evaluate(async () => {
    const video = document.querySelector('.playback-stage video') as HTMLVideoElement;
    video.muted = false;
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 4096;
    context.createMediaElementSource(video).connect(analyser);
    analyser.connect(context.destination);
    await context.resume();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const wave = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(wave);
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let peak = 1;
    for (let i = 1; i < bins.length; i++) if (bins[i]! > bins[peak]!) peak = i;
    const rms = Math.sqrt(wave.reduce((sum, v) => sum + v * v, 0) / wave.length);
    const audioTracks = (video as unknown as { audioTracks?: { length: number } }).audioTracks?.length;
    await context.close();
    return { rms, peakHz: (peak * context.sampleRate) / analyser.fftSize, audioTracks };
  });
  assert.ok(aac.rms > 0.05 && Math.abs(aac.peakHz - 1000) < 25, `the AAC recording's 1 kHz tone plays through mpegts.js: ${JSON.stringify(aac)}`);
  assert.equal(await page.$('.playback-stage button.audio-toggle'), null, 'no G.711 button for an AAC recording');
  await page.mouse.move(track.x + track.width * 0.3, track.y + track.height / 2);
  await page.mouse.down();
  await page.mouse.move(track.x + track.width * 0.6, track.y + track.height / 2, { steps: 5 });
  await page.mouse.up();
  const href = await page.getAttribute('#playback-download:not([hidden])', 'href');
  assert.match(href ?? '', /\/record\/live\/hue\.mp4\?start=\d+&end=\d+&download=1/);
}

/** The playback page of `path` with the timeline zoomed from 24 h to minutes around the recording, and a click at an instant. */
async function openTimeline(page: Page, path: string): Promise<{ track: { x: number; y: number; width: number; height: number }; clickAt: (ms: number) => Promise<number> }> {
  await page.goto(`${gw.httpUrl}/playback?path=${path}`);
  await page.waitForSelector('#timeline .recorded', { timeout: 15_000 });
  assert.ok(await page.$('.calendar button.day.has-recordings.chosen'), 'today is marked as a day with recordings and chosen');
  // The wheel zooms around the pointer.
  for (let i = 0; i < 7; i++) {
    const box = (await page.locator('#timeline .recorded').first().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -100);
  }
  const view = await page.$eval('#timeline', (t) => ({ start: Number((t as HTMLElement).dataset.viewStart), end: Number((t as HTMLElement).dataset.viewEnd) }));
  assert.ok(view.end - view.start <= 5 * 60_000 + 1, `zoomed to minutes: ${view.end - view.start} ms`);
  const track = (await page.locator('#timeline').boundingBox())!;
  /** Clicks `ms` on the timeline; resolves with the instant the page asked for once the picture moves. */
  const clickAt = async (ms: number): Promise<number> => {
    const before = await page.evaluate(() => (document.querySelector('.playback-stage video') as HTMLElement | null)?.dataset.playbackStart ?? null);
    await page.mouse.click(track.x + ((ms - view.start) / (view.end - view.start)) * track.width, track.y + track.height / 2);
    await page.waitForFunction(
      (previous) => {
        const video = document.querySelector('.playback-stage video') as HTMLVideoElement | null;
        return !!video && video.dataset.playbackStart !== previous && video.currentTime > 0.5;
      },
      before,
      { timeout: 20_000 },
    );
    return Number(await page.getAttribute('.playback-stage video', 'data-playback-start'));
  };
  return { track, clickAt };
}

interface Heard {
  rms: number;
  peakHz: number;
  syncMs: number;
  state: string;
}

/** Waits for the playback tile's G.711 meter to hear a tone (and to know how far the sound is from the picture). */
async function heard(page: Page, what: string): Promise<Heard> {
  const toggle = '.playback-stage button.audio-toggle';
  const measured = await page
    .waitForFunction(
      (selector) => {
        const b = document.querySelector(selector) as HTMLElement | null;
        const rms = Number(b?.dataset.rms ?? 0);
        return rms > 0.05 && b?.dataset.syncMs !== undefined ? { rms, peakHz: Number(b.dataset.peakHz), syncMs: Number(b.dataset.syncMs), state: b.dataset.state } : false;
      },
      toggle,
      { timeout: 15_000 },
    )
    .catch((err: Error) => {
      throw new Error(`${what}: no tone heard (${err.message})`);
    });
  const level = (await measured.jsonValue()) as Heard;
  // Once the tone is there, the median of five meter readings (200 ms apart) of sound against picture.
  const syncs: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sync = await page.getAttribute(toggle, 'data-sync-ms');
    if (sync !== null) syncs.push(Number(sync));
  }
  assert.ok(syncs.length >= 3, `${what}: the sound kept playing (${syncs.length} readings)`);
  level.syncMs = syncs.sort((a, b) => a - b)[syncs.length >> 1]!;
  assert.equal(level.state, 'playing', what);
  assert.ok(Math.abs(level.peakHz - 440) < 25, `${what}: the analyser's strongest bin is the 440 Hz tone: ${level.peakHz} Hz`);
  // The sound is of the picture's own second (a range not following a pause or seek is seconds
  // off). Not asserted here: ITU-R BT.1359-1's window (90 ms early to 185 ms late), because this
  // reading is the page's scheduling on a machine the suite shares (118 ms at one CI run); the frame-
  // exact timing is range-audio.test.ts's, and the reading is printed for the note.
  assert.ok(Math.abs(level.syncMs) < 1000, `${what}: the sounding frame is ${level.syncMs} ms from the picture`);
  const inWindow = level.syncMs <= 90 && level.syncMs >= -185;
  console.log(`# ${what}: sound ${level.syncMs} ms from the picture (${inWindow ? 'inside' : 'outside'} BT.1359's acceptable window)`);
  return level;
}

/** The RTSP camera's A-law recording in playback: muted by default, unmute, pause, seek, 2x mutes with a word, 1x again. */
async function checkPlaybackAudio(page: Page): Promise<void> {
  const began = Date.now();
  const [segment] = (await listRecordings(gw, 'cams/g711')).recordings;
  assert.ok(segment, 'a recording of cams/g711');
  assert.equal(segment.audioCodec, 'g711a', 'the FLV recording kept the A-law');
  assert.ok(segment.durationMs >= 7000, `recorded ${segment.durationMs} ms`);
  const { clickAt } = await openTimeline(page, 'cams/g711');
  const toggle = '.playback-stage button.audio-toggle';
  await clickAt(segment.startMs + 1000);
  await page.waitForSelector(`${toggle}:not([hidden])`, { timeout: 10_000 });
  assert.equal(await page.getAttribute(toggle, 'data-state'), 'muted', 'muted by default');
  await page.click(toggle);
  const first = await heard(page, 'unmuted');
  await saveScreenshot(page, 'console-pages-playback-g711');
  // Paused, the sound stops with the picture; playing again, it comes back in step.
  await page.evaluate(() => (document.querySelector('.playback-stage video') as HTMLVideoElement).pause());
  await page.waitForFunction((selector) => Number((document.querySelector(selector) as HTMLElement).dataset.rms) < 0.01, toggle, { timeout: 5000 });
  await page.evaluate(() => void (document.querySelector('.playback-stage video') as HTMLVideoElement).play());
  const resumed = await heard(page, 'after pause');
  // A seek (back to the start): a new range, and the sound follows it, still on.
  const seekTo = segment.startMs + 500;
  const asked = await clickAt(seekTo);
  assert.ok(Math.abs(asked - seekTo) < 1000, `the seek asked for ${asked - seekTo} ms from the aimed instant`);
  const afterSeek = await heard(page, 'after the seek');
  const position = await page.$eval('.playback-stage video', (v) => (v as HTMLVideoElement).currentTime);
  assert.ok(position < 6, `the picture plays the new range from its start: ${position} s`);
  // 2x: no sound, and the button says why; 1x again: the sound is back without another click.
  await page.click('.speeds button:has-text("2x")');
  await page.waitForSelector(`${toggle}[data-state="blocked"][disabled]`, { timeout: 10_000 });
  assert.equal(await page.textContent('.playback-stage .audio-level'), 'sound at 1x only');
  await page.waitForFunction(() => ((document.querySelector('.playback-stage video') as HTMLVideoElement | null)?.currentTime ?? 0) > 1, undefined, { timeout: 10_000 });
  await saveScreenshot(page, 'console-pages-playback-g711-2x');
  await page.click('.speeds button:has-text("1x")');
  const back = await heard(page, 'back at 1x');
  console.log(`playback G.711 (${Date.now() - began} ms): ${JSON.stringify({ first, resumed, afterSeek, back })}`);
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
