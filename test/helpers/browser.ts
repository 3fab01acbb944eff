import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

/**
 * Of @sparticuz/chromium's Lambda defaults: --single-process ends the browser when a page closes,
 * and the SwiftShader GL flags emulate a GPU on the CPU, dearer than software compositing.
 */
const LEFT_OUT_OF_SPARTICUZ = new Set(['--single-process', '--ignore-gpu-blocklist', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader']);

/**
 * Software compositing: a 3x3 wall of 640x360 tiles cost Chromium 165 % of a core through
 * SwiftShader's GL and 56 % without it (npm run bench:wall), which had left the 2-core machine
 * saturated and a tile at 45 frames in 10 s whenever anything else ran.
 */
const COMMON_ARGS = ['--disable-gpu', '--disable-gpu-compositing', '--disable-background-networking', '--disable-component-update', '--autoplay-policy=no-user-gesture-required'];

/**
 * Headless Chromium from npm (@sparticuz/chromium, driven by playwright-core); a system
 * Chromium is used when CHROMIUM_PATH names one. Loopback only: background networking is off.
 * `extraArgs` are added to the command line (`--ignore-certificate-errors-spki-list=...`).
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  if (process.env.CHROMIUM_PATH) {
    return chromium.launch({
      executablePath: process.env.CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--no-first-run', ...COMMON_ARGS, ...extraArgs],
    });
  }
  const sparticuz = (await import('@sparticuz/chromium')).default;
  return chromium.launch({
    executablePath: await sparticuz.executablePath(),
    headless: true,
    args: [...sparticuz.args.filter((arg) => !LEFT_OUT_OF_SPARTICUZ.has(arg)), ...COMMON_ARGS, ...extraArgs],
  });
}

export const MPEGTS_JS = require.resolve('mpegts.js/dist/mpegts.js');

/** Where browser tests save what the page showed, for a person to look at (CI keeps the folder). */
export const SCREENSHOT_DIR = join(__dirname, '..', '..', '..', 'test-artifacts', 'screenshots');

/**
 * Saves a PNG of the page as `test-artifacts/screenshots/{name}.png` and returns its path. A page
 * full of playing videos on a loaded machine can take tens of seconds to capture: `timeoutMs`.
 */
export async function saveScreenshot(page: Page, name: string, options: { timeoutMs?: number } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}) });
  return path;
}

export interface MpegtsState {
  /** Decoded video frames so far (getVideoPlaybackQuality). */
  frames: number;
  width: number;
  /** mpegts.js ERROR events, `type: detail`. */
  errors: string[];
}

/**
 * Plays a live FLV URL (http(s):// or ws(s)://) with mpegts.js in a muted `<video id="v">` that
 * the page already holds; returns a sampler of what the video element decoded.
 */
export async function playFlvWithMpegts(page: Page, url: string): Promise<() => Promise<MpegtsState>> {
  await page.addScriptTag({ path: MPEGTS_JS });
  await page.evaluate((src) => {
    interface MpegtsPlayer {
      on(event: string, listener: (type: string, detail: string) => void): void;
      attachMediaElement(video: HTMLVideoElement): void;
      load(): void;
    }
    const w = window as unknown as { mpegts: { createPlayer(media: object, config: object): MpegtsPlayer; Events: { ERROR: string } }; playerErrors: string[] };
    w.playerErrors = [];
    const video = document.getElementById('v') as HTMLVideoElement;
    const player = w.mpegts.createPlayer({ type: 'flv', isLive: true, url: src }, { enableWorker: false, lazyLoad: false });
    player.on(w.mpegts.Events.ERROR, (type: string, detail: string) => w.playerErrors.push(`${type}: ${detail}`));
    player.attachMediaElement(video);
    player.load();
    void video.play();
  }, url);
  return () =>
    page.evaluate(() => {
      const video = document.getElementById('v') as HTMLVideoElement;
      return { frames: video.getVideoPlaybackQuality().totalVideoFrames, width: video.videoWidth, errors: (window as unknown as { playerErrors: string[] }).playerErrors };
    });
}
