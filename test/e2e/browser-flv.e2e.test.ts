import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { launchChromium, playFlvWithMpegts, saveScreenshot, type MpegtsState } from '../helpers/browser';

let gw: TestGateway;
let publisher: Awaited<ReturnType<typeof publishTestPattern>>;
let browser: Browser;

before(async () => {
  gw = await startTestGateway();
  publisher = await publishTestPattern(gw, 'live/browser');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await publisher?.stop();
  await gw?.stop();
});

/** Plays `url` with mpegts.js in a muted <video> and returns the decoded-frame counter. */
async function play(page: Page, url: string): Promise<() => Promise<MpegtsState>> {
  await page.goto(`${gw.httpUrl}/api/health`); // an http:// origin on the gateway
  await page.setContent('<video id="v" muted autoplay playsinline width="640" height="360"></video>');
  return playFlvWithMpegts(page, url);
}

for (const scheme of ['ws', 'http'] as const) {
  test(`Chromium plays ${scheme === 'ws' ? 'WebSocket-FLV' : 'HTTP-FLV'} with mpegts.js and the decoded frames keep increasing`, async () => {
    const page = await browser.newPage();
    try {
      const url = `${gw.httpUrl.replace('http', scheme)}/live/browser.flv`;
      const sample = await play(page, url);
      const deadline = Date.now() + 15_000;
      let first = await sample();
      while (first.frames < 5 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        first = await sample();
      }
      assert.ok(first.frames >= 5, `decoding started (frames ${first.frames}, errors ${first.errors.join('; ')})`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const second = await sample();
      assert.ok(second.frames >= first.frames + 25, `frames went from ${first.frames} to ${second.frames} in 2 s`);
      assert.equal(second.width, 640);
      assert.deepEqual(second.errors, []);
    } finally {
      await page.close();
    }
  });
}

test('the console at / lists the live stream in its tree after the login and plays it in a wall tile when clicked', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${gw.httpUrl}/`);
    await page.fill('#secret', gw.config.auth.secret); // the console logs in with the admin secret (test/e2e/console.e2e.test.ts)
    await page.click('#login button');
    const button = page.locator('#tree button[data-path="live/browser"]');
    await button.waitFor({ timeout: 10_000 });
    assert.match((await button.textContent()) ?? '', /h264 640x360/);
    await button.click();
    const frames = () =>
      page.evaluate(() => (document.querySelector('video[data-path="live/browser"]') as HTMLVideoElement | null)?.getVideoPlaybackQuality().totalVideoFrames ?? 0);
    const deadline = Date.now() + 15_000;
    while ((await frames()) < 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    const first = await frames();
    assert.ok(first >= 10, `the page decodes video (frames ${first})`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok((await frames()) > first + 15);
    assert.equal(await page.locator('#status.error').count(), 0);
    await saveScreenshot(page, 'live-page-playing');
  } finally {
    await page.close();
  }
});
