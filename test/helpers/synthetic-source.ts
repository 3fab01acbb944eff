import type { Publisher } from '../../src/core/source';
import type { Registry } from '../../src/hub/registry';
import type { OnDemandSource } from '../../src/hub/demand';
import { H264_TEST_TRACK, TestSource, videoFrame } from './hub-fixtures';

/**
 * An on-demand test source: publishes synthetic video frames every `intervalMs` (a keyframe
 * every 10th) until stopped. It stands in for GB28181 and RTSP pulls in hub tests.
 */
export function startSyntheticSource(registry: Registry, path: string, intervalMs = 10): OnDemandSource & { stopped: boolean; publisher: Publisher } {
  const source = new TestSource();
  const publisher = registry.publish(path, source);
  publisher.setTracks([H264_TEST_TRACK]);
  let n = 0;
  const timer = setInterval(() => {
    publisher.write(videoFrame(publisher.resumeDts + n * 3600, n % 10 === 0));
    n++;
  }, intervalMs);
  const handle = {
    stopped: false,
    publisher,
    stop(reason: string): void {
      handle.stopped = true;
      clearInterval(timer);
      publisher.end(reason);
    },
  };
  return handle;
}
