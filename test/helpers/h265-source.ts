/**
 * A live H.265 source in the hub made from a real encoder's bitstream: ffmpeg's libx265
 * encodes a test pattern to Annex B once, and its frames are published in real time, looped
 * (every loop starts at an IDR, so the loop decodes cleanly). This ffmpeg cannot publish
 * H.265 over RTMP itself (2018 build, no Enhanced RTMP).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitAnnexB } from '../../src/codecs/annexb';
import { h265Track } from '../../src/codecs/h265/track';
import { h265NalType, isH265IrapType } from '../../src/codecs/h265/nal';
import { makeFrame } from '../../src/core/frame';
import type { Registry } from '../../src/hub/registry';
import { ffmpegPath, runTool } from './media-tools';
import { TestSource } from './hub-fixtures';
import { testPatternArgs } from './publisher';

export async function encodeH265(dir: string, size = '320x240', fps = 25, seconds = 2): Promise<string> {
  const file = join(dir, `x265-${size}.h265`);
  const run = await runTool(ffmpegPath, testPatternArgs(file, { video: 'h265', size, rate: fps, seconds, audio: false, realtime: false, format: 'hevc' }));
  if (run.code !== 0) throw new Error(`x265 encode failed: ${run.stderr}`);
  return file;
}

/** Publishes the file's frames at `fps` until stop(); resolves once the stream is ready. */
export function publishH265(registry: Registry, path: string, file: string, fps = 25): { stop(): void } {
  const units = splitAnnexB(readFileSync(file));
  const find = (type: number): Buffer => {
    const unit = units.find((u) => h265NalType(u) === type);
    if (!unit) throw new Error(`no NAL type ${type} in ${file}`);
    return unit;
  };
  const track = h265Track(0, find(32), find(33), find(34));
  const frames = units.filter((u) => h265NalType(u) < 32);
  const publisher = registry.publish(path, new TestSource());
  publisher.setTracks([track]);
  const tick = 90_000 / fps;
  let n = 0;
  const timer = setInterval(() => {
    const unit = frames[n % frames.length]!;
    const dts = publisher.resumeDts + n * tick;
    publisher.write(makeFrame({ trackId: 0, codec: 'h265', dts, pts: dts, keyframe: isH265IrapType(h265NalType(unit)), units: [unit], receivedAt: performance.now() }));
    n++;
  }, 1000 / fps);
  return {
    stop() {
      clearInterval(timer);
      publisher.end('test source stopped');
    },
  };
}
