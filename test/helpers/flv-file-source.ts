import { readFileSync } from 'node:fs';
import type { Frame } from '../../src/core/frame';
import type { Track } from '../../src/core/track';
import { TimestampNormalizer } from '../../src/core/time';
import { FlvBodyDecoder, FlvDemuxer, FLV_TAG_AUDIO, FLV_TAG_VIDEO } from '../../src/formats/flv';
import type { OnDemandSource } from '../../src/hub/demand';
import type { Registry } from '../../src/hub/registry';
import { ffmpegPath, runTool } from './media-tools';
import { testPatternArgs } from './publisher';

/** Makes a small real H.264+AAC FLV with ffmpeg (the test's "camera"). */
export async function makeTestFlv(file: string, seconds = 4, size = '320x240'): Promise<void> {
  const result = await runTool(ffmpegPath, testPatternArgs(file, { size, seconds, realtime: false, bframes: 0 }));
  if (result.code !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
}

/** Every track and frame of an FLV file, through the gateway's own demuxer and body decoder. */
export function readFlvFrames(file: string): { tracks: Track[]; frames: Frame[] } {
  const demuxer = new FlvDemuxer();
  const decoder = new FlvBodyDecoder();
  const frames: Frame[] = [];
  for (const tag of demuxer.feed(readFileSync(file))) {
    if (tag.type !== FLV_TAG_VIDEO && tag.type !== FLV_TAG_AUDIO) continue;
    const decoded = tag.type === FLV_TAG_VIDEO ? decoder.video(tag.timestampMs, tag.body) : decoder.audio(tag.timestampMs, tag.body);
    if (decoded.frame) frames.push(decoded.frame);
  }
  return { tracks: decoder.tracks, frames };
}

/**
 * An on-demand source that replays an FLV file in real time, looped, as a camera pull would
 * feed the hub (timestamps continue across loops through a TimestampNormalizer).
 */
export function startFlvFileSource(registry: Registry, path: string, media: { tracks: Track[]; frames: Frame[] }): OnDemandSource & { stopped: boolean } {
  const publisher = registry.publish(path, { kind: 'file', remote: 'file://test', close: () => handle.stop('closed') });
  publisher.setTracks(media.tracks);
  const normalizer = new TimestampNormalizer(publisher.resumeDts);
  const duration = media.frames.at(-1)!.dts - media.frames[0]!.dts + 3600;
  const startedAt = performance.now();
  let index = 0;
  let loop = 0;
  const tick = (): void => {
    const elapsedTicks = (performance.now() - startedAt) * 90;
    for (;;) {
      const frame = media.frames[index]!;
      const dts = frame.dts - media.frames[0]!.dts + loop * duration;
      if (dts > elapsedTicks) break;
      const times = normalizer.normalize(frame.trackId, dts, dts + (frame.pts - frame.dts));
      publisher.write({ ...frame, ...times, receivedAt: performance.now() });
      if (++index === media.frames.length) {
        index = 0;
        loop++;
      }
    }
  };
  const timer = setInterval(tick, 10);
  const handle = {
    stopped: false,
    stop(reason: string): void {
      if (handle.stopped) return;
      handle.stopped = true;
      clearInterval(timer);
      publisher.end(reason);
    },
  };
  return handle;
}
