import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { launchChromium } from '../helpers/browser';

const HLS_JS = require.resolve('hls.js/dist/hls.js');

let gw: TestGateway;
let publisher: Awaited<ReturnType<typeof publishTestPattern>>;
let browser: Browser;

before(async () => {
  gw = await startTestGateway();
  publisher = await publishTestPattern(gw, 'live/browserhls');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await publisher?.stop();
  await gw?.stop();
});

interface PlayerState {
  frames: number;
  width: number;
  height: number;
  errors: string[];
  /** ms between now and the wall clock (EXT-X-PROGRAM-DATE-TIME) of the frame on screen. */
  latencyMs: number | null;
}

test('hls.js in headless Chromium plays the HLS and the decoded frame count keeps increasing', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${gw.httpUrl}/api/health`); // an http:// origin on the gateway
    await page.setContent('<video id="v" muted autoplay playsinline width="640" height="360"></video>');
    await page.addScriptTag({ path: HLS_JS });
    const supported = await page.evaluate(() => (window as unknown as { Hls: { isSupported(): boolean } }).Hls.isSupported());
    assert.equal(supported, true, 'MSE is available');
    await page.evaluate((src) => {
      const w = window as unknown as { Hls: any; hls: any; playerErrors: string[] };
      w.playerErrors = [];
      const video = document.getElementById('v') as HTMLVideoElement;
      const hls = new w.Hls({ enableWorker: false });
      w.hls = hls;
      hls.on(w.Hls.Events.ERROR, (_: string, data: { type: string; details: string; fatal: boolean }) => {
        if (data.fatal) w.playerErrors.push(`${data.type}: ${data.details}`);
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      void video.play().catch(() => undefined);
    }, `${gw.httpUrl}/live/browserhls/index.m3u8`);
    const sample = (): Promise<PlayerState> =>
      page.evaluate(() => {
        const w = window as unknown as { hls: { playingDate: Date | null }; playerErrors: string[] };
        const video = document.getElementById('v') as HTMLVideoElement;
        const date = w.hls.playingDate;
        return {
          frames: video.getVideoPlaybackQuality().totalVideoFrames,
          width: video.videoWidth,
          height: video.videoHeight,
          errors: w.playerErrors,
          latencyMs: date ? Date.now() - date.getTime() : null,
        };
      });
    const deadline = Date.now() + 25_000;
    let first = await sample();
    while (first.frames < 5 && Date.now() < deadline && first.errors.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      first = await sample();
    }
    assert.ok(first.frames >= 5, `decoding started (frames ${first.frames}, errors ${first.errors.join('; ')})`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const second = await sample();
    assert.ok(second.frames >= first.frames + 50, `frames went from ${first.frames} to ${second.frames} in 3 s`);
    assert.equal(second.width, 640);
    assert.equal(second.height, 360);
    assert.deepEqual(second.errors, []);
    assert.ok(second.latencyMs !== null && second.latencyMs > 0 && second.latencyMs < 20_000, `ingest-to-screen latency ${second.latencyMs} ms`);
    const stream = gw.gateway.registry.get('live/browserhls')!;
    assert.equal(stream.readers.byProtocol.hls, 1, 'one session for the whole playback');
  } finally {
    await page.close();
  }
});
