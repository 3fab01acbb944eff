import type { Logger } from '../../core/log';
import type { Registry, ViewerSessionEnd } from '../../hub/registry';

/** The fields of one access-log line (ZLMediaKit's flow report). */
export interface AccessLogLine {
  readonly session: string;
  readonly protocol: string;
  readonly path: string;
  readonly remote?: string;
  readonly user?: string;
  readonly bytes: number;
  readonly durationMs: number;
  readonly reason: string;
  /** False: the viewer never got the stream (it was not found, or it left first). */
  readonly started: boolean;
}

export function accessLogLine(session: ViewerSessionEnd): AccessLogLine {
  const user = (session as { user?: unknown }).user;
  return {
    session: session.id,
    protocol: session.protocol,
    path: session.path,
    ...(session.remote ? { remote: session.remote } : {}),
    ...(typeof user === 'string' ? { user } : {}),
    bytes: session.bytesOut,
    durationMs: Math.max(0, session.endedAt - session.since),
    reason: session.reason.slice(0, 200),
    started: session.started,
  };
}

/** One info line per ended viewer session on the `access` logger. Returns the unsubscribe. */
export function attachAccessLog(registry: Pick<Registry, 'events'>, log: Logger): () => void {
  return registry.events.on('viewerEnd', (session) => log.info({ access: accessLogLine(session) }, 'viewer session ended'));
}
