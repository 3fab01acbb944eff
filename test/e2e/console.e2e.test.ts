import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { TEST_SECRETS, startTestGateway, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { launchChromium, saveScreenshot } from '../helpers/browser';

/** The console at / under the shipped defaults: it asks for the admin secret, then lists and plays with signed URLs. */
let gw: TestGateway;
let publisher: Awaited<ReturnType<typeof publishTestPattern>>;
let browser: Browser;

before(async () => {
  gw = await startTestGateway({ GW_AUTH_PLAY: 'token' });
  publisher = await publishTestPattern(gw, 'live/console', { audio: false, size: '320x240' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await publisher?.stop();
  await gw?.stop();
});

test('Chromium: the console asks for the secret, refuses a wrong one, then lists the stream and plays it with a signed URL', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${gw.httpUrl}/`);
    await page.waitForSelector('#login:not([hidden])', { timeout: 10_000 });
    assert.equal(await page.isHidden('#page'), true, 'nothing shown before the login');
    await page.fill('#secret', 'a-wrong-secret-entirely');
    await page.click('#login button');
    await page.waitForFunction(() => document.getElementById('status')?.className === 'error', undefined, { timeout: 10_000 });
    await saveScreenshot(page, 'console-login-refused');
    await page.fill('#secret', TEST_SECRETS.secret);
    await page.click('#login button');
    await page.waitForSelector('#tree button[data-path="live/console"]', { timeout: 10_000 });
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'gw_session');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(session?.sameSite, 'Strict');
    await page.click('#tree button[data-path="live/console"]');
    const frames = await page.waitForFunction(
      () => {
        const video = document.querySelector('video[data-path="live/console"]') as HTMLVideoElement | null;
        if (!video) return false;
        return video.getVideoPlaybackQuality().totalVideoFrames >= 5 ? video.getVideoPlaybackQuality().totalVideoFrames : false;
      },
      undefined,
      { timeout: 20_000 },
    );
    assert.ok(Number(await frames.jsonValue()) >= 5);
    const token = await page.evaluate(() => document.body.innerText.match(/token=[^&\s]+/)?.[0] ?? null);
    assert.equal(token, null, 'the page does not print a play token');
    await saveScreenshot(page, 'console-playing');
    assert.match(page.url(), /\/wall\?layout=2x2&paths=live\/console$/, 'the address bar holds the wall');
    await page.reload();
    await page.waitForSelector('#tree button[data-path="live/console"]', { timeout: 10_000 });
    await page.waitForSelector('video[data-path="live/console"]', { timeout: 10_000 });
    assert.equal(await page.isHidden('#login'), true, 'the session survives a reload');
  } finally {
    await page.close();
  }
});
