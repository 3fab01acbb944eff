import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { MPEGTS_JS, launchChromium } from '../helpers/browser';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { publishTestPattern } from '../helpers/publisher';
import { listRecordings, recordDir, type RecordingJson } from '../helpers/recordings';

/**
 * The recorder records an ffmpeg RTMP publish in 15 s segments (FLV and TS): 30 s, the publisher
 * away for 10 s, 15 s more. Then every playback output is read back by ffprobe, hls.js and
 * mpegts.js in Chromium.
 */
const HLS_JS = require.resolve('hls.js/dist/hls.js');
const PATH = 'live/pb';
let gw: TestGateway;
let browser: Browser;
let flv: RecordingJson[];

async function publishFor(seconds: number): Promise<void> {
  const publisher = await publishTestPattern(gw, PATH, { seconds, gop: 25, rate: 25 });
  await new Promise<void>((resolve) => publisher.child.once('exit', () => resolve()));
  await waitFor(() => !gw.gateway.registry.get(PATH), 15_000, 'the stream to end');
}

before(async () => {
  gw = await startTestGateway({
    GW_RECORD_SEGMENT_SECONDS: '15',
    GW_HUB_RECONNECT_GRACE: '0',
    GW_RECORD_PLANS: JSON.stringify([{ id: 'pb', streams: PATH, formats: 'flv,ts' }]),
  });
  await publishFor(30);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  await publishFor(15);
  const rows = await waitFor(
    async () => {
      const { recordings } = await listRecordings(gw, PATH);
      const closed = recordings.filter((r) => r.status === 'complete');
      return (
        closed.filter((r) => r.format === 'flv').length >= 3 && closed.filter((r) => r.format === 'ts').length >= 3 && recordings.every((r) => r.status !== 'recording') && closed
      );
    },
    30_000,
    'closed FLV and TS segments',
  );
  flv = rows.filter((r) => r.format === 'flv').sort((a, b) => a.startMs - b.startMs);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await gw?.stop();
});

const iso = (ms: number): string => new Date(ms).toISOString();

/** The segment after the publisher's 10 s away. */
function afterGap(): RecordingJson {
  const index = flv.findIndex((r, i) => i > 0 && r.startMs - flv[i - 1]!.endMs > 5_000);
  assert.ok(index > 0, `a gap between segments: ${flv.map((r) => `${iso(r.startMs)}-${iso(r.endMs)}`).join(', ')}`);
  return flv[index]!;
}

for (const ext of ['flv', 'ts', 'mp4']) {
  test(`.${ext} of a mid-segment range over three segments: keyframe first, duration within one GOP, no backward timestamps, ffprobe -v error silent, gap reported`, async () => {
    const third = afterGap();
    const start = flv[0]!.startMs + 7_300;
    const end = third.startMs + 5_000;
    const gapMs = third.startMs - flv[1]!.endMs;
    const response = await fetch(`${gw.httpUrl}/record/${PATH}.${ext}?start=${iso(start)}&end=${end}`);
    assert.equal(response.status, 200);
    const gaps = response.headers.get('x-playback-gaps')!;
    assert.equal(gaps.split(',').length, 1, gaps);
    assert.equal(Date.parse(gaps.split('/')[1]!), third.startMs, gaps);
    const file = join(gw.config.storage.dir, `range.${ext}`);
    writeFileSync(file, Buffer.from(await response.arrayBuffer()));
    const probe = await ffprobeJson(file, ['-show_packets']);
    assert.equal(probe.stderr.trim(), '', probe.stderr);
    const videoIndex = probe.streams.find((s) => s.codec_type === 'video')!.index;
    const video = probe.packets!.filter((p) => p.stream_index === videoIndex);
    assert.ok(video[0]!.flags.startsWith('K'), 'the first frame is a keyframe');
    for (const stream of probe.streams) {
      const dts = probe.packets!.filter((p) => p.stream_index === stream.index).map((p) => Number(p.dts_time));
      for (let i = 1; i < dts.length; i++) assert.ok(dts[i]! >= dts[i - 1]!, `${stream.codec_type} dts goes back at packet ${i}`);
    }
    const duration = Number(video.at(-1)!.dts_time) - Number(video[0]!.dts_time) + 0.04;
    const expected = (end - start - gapMs) / 1000;
    assert.ok(duration >= expected - 0.2 && duration <= expected + 1.2, `${duration} s played of ${expected} s asked (GOP 1 s)`);
    const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
    assert.equal(decode.stderr.trim(), '', decode.stderr);
  });
}

test('the timeline shows the publisher gap as two intervals', async () => {
  const body = (await (
    await fetch(`${gw.httpUrl}/api/recordings/timeline?path=${PATH}&start=${flv[0]!.startMs - 60_000}&end=${Date.now()}`, { headers: gw.authHeaders })
  ).json()) as { intervals: { startMs: number; endMs: number }[] };
  assert.equal(body.intervals.length, 2, JSON.stringify(body));
  assert.ok(body.intervals[1]!.startMs - body.intervals[0]!.endMs >= 8_000);
  const day = iso(flv[0]!.startMs).slice(0, 7);
  const days = (await (await fetch(`${gw.httpUrl}/api/recordings/days?path=${PATH}&month=${day}`, { headers: gw.authHeaders })).json()) as { days: string[] };
  assert.ok(days.days.length >= 1);
});

test('Range requests on a recorded segment: first bytes, middle, suffix, invalid', async () => {
  const row = flv[1]!;
  const bytes = readFileSync(join(recordDir(gw), row.file));
  const url = `${gw.httpUrl}/api/recordings/${row.id}/file`;
  const mid = Math.floor(bytes.length / 2);
  for (const [range, from, to] of [
    ['bytes=0-1023', 0, 1023],
    [`bytes=${mid}-${mid + 4095}`, mid, mid + 4095],
    ['bytes=-2000', bytes.length - 2000, bytes.length - 1],
  ] as const) {
    const response = await fetch(url, { headers: { ...gw.authHeaders, range } });
    assert.equal(response.status, 206, range);
    assert.equal(response.headers.get('content-range'), `bytes ${from}-${to}/${bytes.length}`);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes.subarray(from, to + 1)), range);
  }
  const invalid = await fetch(url, { headers: { ...gw.authHeaders, range: `bytes=${bytes.length + 10}-` } });
  assert.equal(invalid.status, 416);
  assert.equal(invalid.headers.get('content-range'), `bytes */${bytes.length}`);
  await invalid.arrayBuffer();
});

async function openPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${gw.httpUrl}/api/health`); // an http:// origin on the gateway
  await page.setContent('<video id="v" muted autoplay playsinline width="640" height="360"></video>');
  return page;
}

test('hls.js plays the VOD playlist and a seek to a wall-clock time lands within one GOP of it (by PROGRAM-DATE-TIME)', async () => {
  const page = await openPage();
  try {
    await page.addScriptTag({ path: HLS_JS });
    const src = `${gw.httpUrl}/record/${PATH}/index.m3u8?start=${flv[0]!.startMs}&end=${flv.at(-1)!.endMs}`;
    await page.evaluate((url) => {
      const w = window as unknown as { Hls: any; hls: any; errors: string[] };
      w.errors = [];
      const video = document.getElementById('v') as HTMLVideoElement;
      w.hls = new w.Hls({ enableWorker: false });
      w.hls.on(w.Hls.Events.ERROR, (_: string, data: { details: string; fatal: boolean }) => data.fatal && w.errors.push(data.details));
      w.hls.loadSource(url);
      w.hls.attachMedia(video);
      void video.play().catch(() => undefined);
    }, src);
    await waitFor(() => page.evaluate(() => (document.getElementById('v') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames > 10), 20_000, 'hls.js to decode');
    for (const target of [flv[0]!.startMs + 20_500, afterGap().startMs + 6_200]) {
      const landed = await page.evaluate(async (wall) => {
        const w = window as unknown as { hls: any };
        const frags = w.hls.levels[0].details.fragments as { start: number; duration: number; programDateTime: number }[];
        const frag = frags.find((f) => f.programDateTime <= wall && wall < f.programDateTime + f.duration * 1000)!;
        const video = document.getElementById('v') as HTMLVideoElement;
        video.currentTime = frag.start + (wall - frag.programDateTime) / 1000;
        await new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
        await new Promise((resolve) => setTimeout(resolve, 500));
        return { playing: (w.hls.playingDate as Date | null)?.getTime() ?? null, current: video.currentTime };
      }, target);
      assert.ok(landed.playing !== null, 'hls.js knows the wall clock of the playing frame');
      assert.ok(Math.abs(landed.playing - 500 - target) <= 1_000, `seek to ${iso(target)} landed at ${iso(landed.playing)} (0.5 s after the seek)`);
    }
    assert.deepEqual(await page.evaluate(() => (window as unknown as { errors: string[] }).errors), []);
  } finally {
    await page.close();
  }
});

async function playWs(page: Page, url: string): Promise<void> {
  await page.addScriptTag({ path: MPEGTS_JS });
  await page.evaluate((src) => {
    const w = window as unknown as { mpegts: any; errors: string[] };
    w.errors = [];
    const video = document.getElementById('v') as HTMLVideoElement;
    const player = w.mpegts.createPlayer({ type: 'flv', isLive: true, url: src }, { enableWorker: false, lazyLoad: false });
    player.on(w.mpegts.Events.ERROR, (type: string, detail: string) => w.errors.push(`${type}: ${detail}`));
    player.attachMediaElement(video);
    player.load();
    void video.play();
  }, url);
}

function mediaState(page: Page): Promise<{ frames: number; bufferedEnd: number; errors: string[] }> {
  return page.evaluate(() => {
    const video = document.getElementById('v') as HTMLVideoElement;
    const end = video.buffered.length ? video.buffered.end(video.buffered.length - 1) : 0;
    return { frames: video.getVideoPlaybackQuality().totalVideoFrames, bufferedEnd: end, errors: (window as unknown as { errors: string[] }).errors };
  });
}

test('?speed=1 over WebSocket plays in mpegts.js at about 25 frames per second, ?speed=4 arrives about four times as fast', async () => {
  const rates: Record<string, { fps: number; mediaPerSecond: number }> = {};
  for (const speed of [1, 4]) {
    const page = await openPage();
    try {
      await playWs(page, `${gw.httpUrl.replace('http', 'ws')}/record/${PATH}.flv?start=${flv[0]!.startMs}&end=${flv[1]!.endMs}&speed=${speed}`);
      await waitFor(async () => (await mediaState(page)).frames > 5, 15_000, 'mpegts.js to decode');
      const first = await mediaState(page);
      const t0 = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const second = await mediaState(page);
      const seconds = (Date.now() - t0) / 1000;
      assert.deepEqual(second.errors, []);
      rates[speed] = { fps: (second.frames - first.frames) / seconds, mediaPerSecond: (second.bufferedEnd - first.bufferedEnd) / seconds };
    } finally {
      await page.close();
    }
  }
  const [one, four] = [rates[1]!, rates[4]!];
  assert.ok(one.fps >= 20 && one.fps <= 30, `speed 1: ${one.fps.toFixed(1)} frames/s`);
  assert.ok(one.mediaPerSecond >= 0.8 && one.mediaPerSecond <= 1.25, `speed 1: ${one.mediaPerSecond.toFixed(2)} s of media per s`);
  assert.ok(four.mediaPerSecond >= 3 && four.mediaPerSecond <= 5, `speed 4: ${four.mediaPerSecond.toFixed(2)} s of media per s`);
});
