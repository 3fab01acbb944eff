import { ffmpegPath, startTool } from './media-tools';
import type { TestGateway } from './gateway';
import { waitFor } from './gateway';

export interface PublishOptions {
  size?: string;
  rate?: number;
  gop?: number;
  audio?: boolean;
  bitrate?: string;
  /** Stop publishing after this many seconds of media (ffmpeg -t); default: until stopped. */
  seconds?: number;
}

/**
 * ffmpeg publishing a live test pattern (H.264 + AAC) over RTMP, as a camera encoder would.
 * Resolves once the gateway reports the stream ready.
 */
export async function publishTestPattern(gw: TestGateway, path: string, options: PublishOptions = {}) {
  const { size = '640x360', rate = 25, gop = 25, audio = true, bitrate = '800k', seconds } = options;
  const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`];
  if (audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100');
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(gop), '-b:v', bitrate);
  if (audio) args.push('-c:a', 'aac', '-b:a', '96k', '-ac', '2');
  if (seconds !== undefined) args.push('-t', String(seconds));
  args.push('-f', 'flv', gw.publishUrl(path));
  const tool = startTool(ffmpegPath, args);
  try {
    await waitFor(() => gw.gateway.registry.get(path)?.ready, 20_000, `stream ${path} to be ready (ffmpeg: ${tool.stderr()})`);
  } catch (err) {
    await tool.stop();
    throw err;
  }
  return tool;
}

export interface ManyOptions {
  size?: string;
  rate?: number;
  bitrate?: string;
  /**
   * Stamp the wall clock into the top 16 rows of every frame: 32 blocks of 20x16 px, bit 31
   * first, white for 1, holding `Date.now() mod 2^32` when the frame was made (read back by
   * `readClockStamp` in the page), so a player's distance behind live can be measured.
   */
  clockStamp?: boolean;
}

/** The filter graph that draws the clock stamp over the test pattern (one strip, so geq stays cheap). */
function stampGraph(size: string): string {
  const width = Number(size.split('x')[0]);
  const block = width / 32;
  const bit = `floor(X/${block})`;
  // RTCTIME (µs since the epoch) becomes the strip's pts, so geq's T is the wall clock in seconds.
  const lum = `if(gte(mod(floor(T*1000)\\,pow(2\\,32-${bit}))\\,pow(2\\,31-${bit}))\\,255\\,0)`;
  return [`[1:v]format=gray,setpts=RTCTIME/1000000/TB,geq=lum='${lum}',setpts=N/FRAME_RATE/TB,format=yuv420p[bar]`, `[0:v][bar]overlay=0:0:shortest=1,format=yuv420p[v]`].join(';');
}

/**
 * One ffmpeg encode re-published to many paths (the tee muxer): N streams for the price of one
 * encoder, as a wall test needs. Resolves once every path is ready.
 */
/** ffmpeg arguments for one encode of a test pattern published to every URL in `urls` (the tee muxer). */
export function manyPublisherArgs(urls: string[], options: ManyOptions = {}): string[] {
  const { size = '640x360', rate = 25, bitrate = '300k', clockStamp = false } = options;
  const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`];
  if (clockStamp) args.push('-re', '-f', 'lavfi', '-i', `color=c=black:size=${size.split('x')[0]}x16:rate=${rate}`, '-filter_complex', stampGraph(size), '-map', '[v]');
  else args.push('-map', '0:v');
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(rate), '-b:v', bitrate, '-flags', '+global_header');
  args.push('-f', 'tee', urls.map((url) => `[f=flv:onfail=ignore]${url}`).join('|'));
  return args;
}

/**
 * One ffmpeg encode re-published to many paths: N streams for the price of one encoder, as a
 * wall test needs. Resolves once every path is ready.
 */
export async function publishToMany(gw: TestGateway, paths: string[], options: ManyOptions = {}) {
  const tool = startTool(
    ffmpegPath,
    manyPublisherArgs(
      paths.map((path) => gw.publishUrl(path)),
      options,
    ),
  );
  try {
    for (const path of paths) await waitFor(() => gw.gateway.registry.get(path)?.ready, 20_000, `stream ${path} to be ready (ffmpeg: ${tool.stderr()})`);
  } catch (err) {
    await tool.stop();
    throw err;
  }
  return tool;
}
