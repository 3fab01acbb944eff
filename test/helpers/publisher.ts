import { ffmpegPath, startTool } from './media-tools';
import type { TestGateway } from './gateway';
import { waitFor } from './gateway';

/** The audio beside the test pattern: a 440 Hz tone in this codec, or none. */
export type TestPatternAudio = 'aac' | 'pcm_alaw' | 'pcm_mulaw' | false;

export interface TestPatternOptions {
  /** Picture size, default 640x360. */
  size?: string;
  /** Frames per second, default 25. */
  rate?: number;
  /** Frames per GOP (-g), default one second (`rate`). */
  gop?: number;
  /** Default AAC (44.1 kHz, stereo); G.711 is 8 kHz mono. */
  audio?: TestPatternAudio;
  /** Stop after this many seconds of media (ffmpeg -t); default: until stopped. */
  seconds?: number;
  /** Read the source at its own rate (-re), as a camera sends; default true. Off to make a file fast. */
  realtime?: boolean;
  /** x264 preset, default ultrafast. */
  preset?: string;
  /** -tune zerolatency (no lookahead, no B-frames). */
  zeroLatency?: boolean;
  /** B-frames (-bf); the encoder's default when absent. */
  bframes?: number;
  /** Video rate control (-b:v, -maxrate, -bufsize); the encoder's defaults when absent. */
  bitrate?: string;
  maxrate?: string;
  bufsize?: string;
  /** -b:a; the encoder's default when absent. */
  audioBitrate?: string;
  /** AAC channels, default 2. */
  channels?: number;
  /** libx264 (default) or libx265: no B-frames, parameter sets with every keyframe. */
  video?: 'h264' | 'h265';
  /** Output container (-f), default flv. */
  format?: string;
  /** ffmpeg's -loglevel, default error. */
  logLevel?: string;
  /** Output options placed before `-f` (TLS verification of an rtmps:// target, the RTSP transport). */
  outputOptions?: string[];
}

/**
 * ffmpeg arguments for a test pattern (testsrc2, H.264 or H.265, and a tone) written to `target`
 * (FLV unless `format` says otherwise): an rtmp:// or rtsp:// URL or a file (overwritten). One
 * builder for every test and bench that needs a synthetic camera, so a flag is changed in one place.
 */
export function testPatternArgs(target: string, options: TestPatternOptions = {}): string[] {
  const { size = '640x360', rate = 25, gop = rate, audio = 'aac', realtime = true, preset = 'ultrafast' } = options;
  const input = (graph: string): string[] => [...(realtime ? ['-re'] : []), '-f', 'lavfi', '-i', graph];
  const args = ['-hide_banner', '-nostats', '-loglevel', options.logLevel ?? 'error', ...input(`testsrc2=size=${size}:rate=${rate}`)];
  if (audio) args.push(...input(`sine=frequency=440:sample_rate=${audio === 'aac' ? 44100 : 8000}`));
  if (options.seconds !== undefined) args.push('-t', String(options.seconds));
  if (options.video === 'h265') {
    args.push('-c:v', 'libx265', '-preset', preset, '-pix_fmt', 'yuv420p');
    args.push('-x265-params', `log-level=error:keyint=${gop}:min-keyint=${gop}:bframes=0:repeat-headers=1`);
  } else {
    args.push('-c:v', 'libx264', '-preset', preset, '-pix_fmt', 'yuv420p', '-g', String(gop));
    if (options.zeroLatency) args.push('-tune', 'zerolatency');
    if (options.bframes !== undefined) args.push('-bf', String(options.bframes));
  }
  const rateControl = { '-b:v': options.bitrate, '-maxrate': options.maxrate, '-bufsize': options.bufsize, '-b:a': audio ? options.audioBitrate : undefined };
  for (const [flag, value] of Object.entries(rateControl)) if (value !== undefined) args.push(flag, value);
  if (audio) args.push('-c:a', audio, '-ac', audio === 'aac' ? String(options.channels ?? 2) : '1');
  args.push(...(options.outputOptions ?? []), '-f', options.format ?? 'flv', '-y', target);
  return args;
}

export type PublishOptions = TestPatternOptions;

/**
 * ffmpeg publishing a live test pattern (H.264 + AAC by default, 800 kbit/s, zero latency) over
 * RTMP, as a camera encoder would. Resolves once the gateway reports the stream ready.
 */
export async function publishTestPattern(gw: TestGateway, path: string, options: PublishOptions = {}) {
  const args = testPatternArgs(gw.publishUrl(path), { zeroLatency: true, bitrate: '800k', audioBitrate: '96k', ...options });
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
