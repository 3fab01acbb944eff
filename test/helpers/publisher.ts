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
