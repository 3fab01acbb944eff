/**
 * One answer from every worker's own lists: per path the origin's publisher and tracks, readers
 * summed; the internal pulls (readers of protocol `cluster`, publishers of kind `cluster`) are
 * plumbing and left out; ids get the worker's prefix so that a close finds its worker.
 */
import type { SessionSnapshot } from '../../hub/registry';
import type { StreamSnapshot } from '../../hub/stream';
import { INTERNAL_PULL_KIND } from '../../core/source';
import type { RtpServerInfo } from '../../api/rtp';

/** The protocol of internal-pull readers and the kind of internal-pull publishers. */
export const CLUSTER_PROTOCOL = INTERNAL_PULL_KIND;

export interface WorkerPart<T> {
  readonly slot: number;
  readonly items: readonly T[];
}

export function prefixedId(slot: number, id: string): string {
  return `w${slot}.${id}`;
}

/** `w2.sub-7` -> {slot: 2, id: 'sub-7'}; undefined for an id without a worker prefix. */
export function parsePrefixedId(id: string): { slot: number; id: string } | undefined {
  const match = /^w(\d{1,4})\.(.+)$/.exec(id);
  return match ? { slot: Number(match[1]), id: match[2]! } : undefined;
}

function withoutInternal(snapshot: StreamSnapshot, slot: number): StreamSnapshot {
  const { [CLUSTER_PROTOCOL]: internal = 0, ...byProtocol } = snapshot.readers.byProtocol;
  return {
    ...snapshot,
    readers: { total: snapshot.readers.total - internal, byProtocol },
    subscribers: snapshot.subscribers.filter((s) => s.protocol !== CLUSTER_PROTOCOL).map((s) => ({ ...s, id: prefixedId(slot, s.id) })),
    publisher: snapshot.publisher && { ...snapshot.publisher, id: prefixedId(slot, snapshot.publisher.id) },
  };
}

function isOrigin(snapshot: StreamSnapshot): boolean {
  return snapshot.publisher !== null && snapshot.publisher.kind !== CLUSTER_PROTOCOL;
}

function add(into: StreamSnapshot, other: StreamSnapshot): StreamSnapshot {
  const byProtocol = { ...into.readers.byProtocol };
  for (const [protocol, n] of Object.entries(other.readers.byProtocol)) byProtocol[protocol] = (byProtocol[protocol] ?? 0) + n;
  return {
    ...into,
    readers: { total: into.readers.total + other.readers.total, byProtocol },
    subscribers: [...into.subscribers, ...other.subscribers],
    bytesOut: into.bytesOut + other.bytesOut,
    bitrateOutKbps: into.bitrateOutKbps + other.bitrateOutKbps,
    framesDropped: into.framesDropped + other.framesDropped,
  };
}

export function mergeStreams(parts: readonly WorkerPart<StreamSnapshot>[]): StreamSnapshot[] {
  const byPath = new Map<string, StreamSnapshot>();
  const origins = new Set<string>();
  for (const part of parts) {
    for (const raw of part.items) {
      const snapshot = withoutInternal(raw, part.slot);
      const seen = byPath.get(snapshot.path);
      if (!seen) {
        byPath.set(snapshot.path, snapshot);
        if (isOrigin(raw)) origins.add(snapshot.path);
      } else if (isOrigin(raw) && !origins.has(snapshot.path)) {
        origins.add(snapshot.path);
        byPath.set(snapshot.path, add(snapshot, seen));
      } else byPath.set(snapshot.path, add(seen, snapshot));
    }
  }
  return [...byPath.values()].map((s) => (origins.has(s.path) || !s.publisher ? s : { ...s, publisher: null }));
}

export function mergeSessions(parts: readonly WorkerPart<SessionSnapshot>[]): SessionSnapshot[] {
  return parts.flatMap((part) => part.items.filter((s) => s.protocol !== CLUSTER_PROTOCOL).map((s) => ({ ...s, id: prefixedId(part.slot, s.id) })));
}

/** Every worker's RTP receivers (each on one worker's port), each named with its worker. */
export function mergeReceivers(parts: readonly WorkerPart<RtpServerInfo>[]): RtpServerInfo[] {
  return parts.flatMap((part) => part.items.map((r) => ({ ...r, worker: part.slot })));
}
