/**
 * "Why is this tile black" in a cluster: the stream may live on any worker and a GB28181 pull's
 * INVITE (its answer, the receiver's address and counters) is known by slot 1, whichever worker
 * holds the receiver. The status is read from the merged stream list, and for a GB28181 path
 * on a worker without SIP, from slot 1.
 */
import type { StreamStatusDto } from '../../api/events';
import type { StreamSnapshot } from '../../hub/stream';
import { parseGbPath } from '../gb-bridge/bridge';
import { streamStatus, type StreamStatusSources } from '../stream-status';
import { clusterKeyHeaders } from './forward';

/** One merged list serves the many paths of one wall request. */
const LIST_FRESH_MS = 250;

export interface ClusterStatusDeps {
  readonly streams: { list(): Promise<StreamSnapshot[]> };
  /** This worker's sources (its proxies, receivers and, on slot 1, the GB28181 bridge). */
  readonly local: StreamStatusSources;
  /** The private address of the SIP worker, when it is another one. */
  readonly sipWorker: () => string | undefined;
  readonly key: string;
  /** auth.secret: the SIP worker's API asks for it like any other client. */
  readonly secret: () => string;
}

export function clusterStreamStatus(deps: ClusterStatusDeps): (path: string) => Promise<StreamStatusDto> {
  let cached: { at: number; list: Promise<StreamSnapshot[]> } | undefined;
  const merged = (): Promise<StreamSnapshot[]> => {
    if (!cached || Date.now() - cached.at > LIST_FRESH_MS) cached = { at: Date.now(), list: deps.streams.list() };
    return cached.list;
  };
  return async (path) => {
    const stream = (await merged()).find((s) => s.path === path);
    const address = deps.sipWorker();
    if (!stream?.ready && address && !deps.local.gb && parseGbPath(path)) {
      const res = await fetch(`${address}/api/streams/${path}/status`, {
        headers: clusterKeyHeaders(deps.key, { authorization: `Bearer ${deps.secret()}` }),
        signal: AbortSignal.timeout(5000),
      });
      if (res.ok) return (await res.json()) as StreamStatusDto;
    }
    return streamStatus({ ...deps.local, registry: { get: () => stream } }, path);
  };
}
