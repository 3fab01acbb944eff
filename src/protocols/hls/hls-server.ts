import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { isVideoTrack } from '../../core/track';
import { codecString } from '../../formats/hls/codecs';
import { renderMasterPlaylist, renderMediaPlaylist } from '../../formats/hls/playlist';
import type { HlsSegment } from '../../formats/hls/segmenter';
import type { TsFeeds } from '../../formats/mpegts/ts-feeds';
import type { Registry } from '../../hub/registry';
import { HlsMuxer } from './hls-muxer';
import { HlsSession, SESSION_ID_PATTERN } from './session';
import { ipOf } from '../shared/sockets';

export interface HlsOptions {
  segmentSeconds: number;
  windowSegments: number;
  /** A session (and a stream's HLS) with no request for this long is closed, ms. */
  closeAfterMs: number;
  /** The first media playlist waits this long at most for two segments, ms. */
  playlistWaitMs: number;
  alwaysRemux: boolean;
  /** Sessions one stream may hold (a flood of one stream does not starve the others). */
  maxSessionsPerStream: number;
  /** Sessions one client IP may hold (one looping client does not starve the other viewers). */
  maxSessionsPerClient: number;
}

/** The session caps, by the name their refusals are counted under. */
export type HlsSessionLimit = 'hls.maxSessions' | 'hls.maxSessionsPerStream' | 'hls.maxSessionsPerClient';

/** Who asks: the peer and the URL query (without `session`), for admission. */
export interface HlsViewer {
  readonly remote: string;
  readonly query: Readonly<Record<string, string>>;
}

export interface HlsDeps {
  registry: Registry;
  feeds: TsFeeds;
  log: Logger;
  /** Called on each refusal by a session cap (counted and logged by the app). */
  refused?: (limit: HlsSessionLimit, details: { path: string; client: string }) => void;
}

/** Segments wanted before the first playlist is answered (so a player has something to buffer). */
const FIRST_PLAYLIST_SEGMENTS = 2;
/** Sessions held at once (each is a hub reader until it expires): a flood of master requests stops here. */
export const MAX_HLS_SESSIONS = 10_000;
const SWEEP_INTERVAL_MS = 1000;

/**
 * Live HLS for every stream: `index.m3u8` (a master playlist that hands out a session id),
 * `index.m3u8?session=ID` (the live media playlist) and `{sequence}.ts?session=ID`. A stream's
 * muxer starts with its first request and stops `closeAfter` after its last one; each session
 * is a hub reader until it goes quiet for `closeAfter`.
 */
export class HlsServer {
  private readonly muxers = new Map<string, HlsMuxer>();
  private readonly sessions = new Map<string, HlsSession>();
  private readonly perStream = new Counts();
  private readonly perClient = new Counts();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly deps: HlsDeps,
    private readonly options: HlsOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (options.alwaysRemux) {
      this.unsubscribe.push(deps.registry.events.on('publish', (path) => this.pin(path)));
      for (const stream of deps.registry.list()) this.pin(stream.path);
    }
  }

  stats(): { muxers: number; sessions: number; bytes: number } {
    let bytes = 0;
    for (const muxer of this.muxers.values()) bytes += muxer.segmenter.bytes;
    return { muxers: this.muxers.size, sessions: this.sessions.size, bytes };
  }

  /** `index.m3u8` without a session: a new session and a master playlist pointing at it. */
  async masterPlaylist(path: string, viewer: HlsViewer): Promise<string> {
    const session = await this.session(path, newSessionId(), viewer);
    const muxer = this.muxer(path);
    try {
      await this.busy(session, muxer, () => muxer.ensureFeed());
    } catch (err) {
      this.dropSession(session, 'the stream did not start');
      throw err;
    }
    const tracks = muxer.tracks;
    const video = tracks.find(isVideoTrack);
    const bitrate = (this.deps.registry.get(path)?.bitrateInKbps ?? 0) * 1000;
    return renderMasterPlaylist({
      uri: `index.m3u8?session=${session.id}`,
      bandwidth: bitrate > 0 ? bitrate * 1.2 : 2_000_000,
      codecs: tracks.map(codecString).filter((c): c is string => c !== undefined),
      resolution: video ? { width: video.width, height: video.height } : undefined,
    });
  }

  /** The live media playlist of a session; the first one waits (bounded) for two segments. */
  async mediaPlaylist(path: string, sessionId: string, viewer: HlsViewer, signal?: AbortSignal): Promise<string> {
    const session = await this.session(path, sessionId, viewer);
    const muxer = this.muxer(path);
    muxer.ensureFeed().catch(() => undefined); // failures reach the waiter below
    await this.busy(session, muxer, () => muxer.waitForSegments(FIRST_PLAYLIST_SEGMENTS, this.options.playlistWaitMs, signal));
    const uri = (segment: HlsSegment): string => `${segment.sequence}.ts?session=${session.id}`;
    return renderMediaPlaylist(muxer.segmenter.window, { targetDuration: muxer.segmenter.targetDuration, uri });
  }

  /** One segment of a running muxer; an unknown session id is (re)created. */
  async segment(path: string, sequence: number, sessionId: string, viewer: HlsViewer): Promise<Buffer> {
    const muxer = this.muxers.get(path);
    const segment = muxer?.segmenter.segment(sequence);
    if (!muxer || !segment) throw new GatewayError('STREAM_NOT_FOUND', `HLS segment ${sequence} of ${path} is not (or no longer) available`);
    const session = await this.session(path, sessionId, viewer);
    muxer.lastRequestAt = this.now();
    session.bytesOut += segment.data.length;
    return segment.data;
  }

  /** Runs a (waiting) request: neither its session nor the muxer expire meanwhile; both are touched after. */
  private async busy<T>(session: HlsSession, muxer: HlsMuxer, work: () => Promise<T>): Promise<T> {
    session.inFlight++;
    muxer.inFlight++;
    try {
      return await work();
    } finally {
      session.inFlight--;
      muxer.inFlight--;
      const now = this.now();
      session.lastSeen = now;
      muxer.lastRequestAt = now;
    }
  }

  /** Closes every session and muxer. Idempotent. */
  close(reason = 'shutting down'): void {
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const off of this.unsubscribe.splice(0)) off();
    for (const session of this.sessions.values()) session.close(reason);
    this.sessions.clear();
    this.perStream.clear();
    this.perClient.clear();
    for (const muxer of this.muxers.values()) muxer.close(reason);
    this.muxers.clear();
  }

  /** Closes expired sessions and idle muxers; exposed for tests. */
  sweep(now = this.now()): void {
    for (const [key, session] of this.sessions) {
      if (session.inFlight === 0 && now - session.lastSeen > this.options.closeAfterMs) {
        this.forget(key, session);
        session.close(`no request for ${this.options.closeAfterMs} ms`);
      }
    }
    for (const [path, muxer] of this.muxers) {
      const idle = muxer.inFlight === 0 && now - muxer.lastRequestAt > this.options.closeAfterMs;
      const keep = muxer.pinned && this.deps.registry.get(path) !== undefined;
      if (idle && !keep) {
        this.muxers.delete(path);
        muxer.close(`no HLS request for ${this.options.closeAfterMs} ms`);
      }
    }
    if (this.sessions.size === 0 && this.muxers.size === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** The session `id` of `path`; a new one passes admission first (hub rule 11). */
  private async session(path: string, id: string, viewer: HlsViewer): Promise<HlsSession> {
    if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
    if (!SESSION_ID_PATTERN.test(id)) throw new GatewayError('BAD_REQUEST', 'session must be 8-64 characters of A-Z a-z 0-9 _ -');
    const key = `${path}\n${id}`;
    const stale = this.sessions.get(key);
    if (stale?.isClosed) this.forget(key, stale); // closed through the API: a new one asks again
    if (!this.sessions.has(key)) {
      await this.deps.registry.admission.admit({ action: 'play', path, protocol: 'hls', remote: viewer.remote, query: viewer.query });
      if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
    }
    const remote = viewer.remote;
    const now = this.now();
    let session = this.sessions.get(key);
    if (!session) {
      this.checkCaps(path, remote);
      session = new HlsSession(id, path, remote, now, this.deps.registry, this.deps.log);
      this.sessions.set(key, session);
      this.perStream.add(path);
      this.perClient.add(session.client);
      this.deps.log.debug({ session: id, path, remote }, 'hls session opened');
      this.armSweep();
    }
    session.touch(now, remote);
    return session;
  }

  /** Refuses a new session past a cap: process-wide, per stream, per client IP. */
  private checkCaps(path: string, remote: string): void {
    const client = ipOf(remote);
    const refuse = (limit: HlsSessionLimit, message: string): never => {
      this.deps.refused?.(limit, { path, client });
      throw new GatewayError('STREAM_BUSY', message);
    };
    if (this.sessions.size >= MAX_HLS_SESSIONS) refuse('hls.maxSessions', `too many HLS sessions (${MAX_HLS_SESSIONS})`);
    const { maxSessionsPerStream, maxSessionsPerClient } = this.options;
    if (this.perStream.of(path) >= maxSessionsPerStream) refuse('hls.maxSessionsPerStream', `too many HLS sessions on ${path} (${maxSessionsPerStream})`);
    if (this.perClient.of(client) >= maxSessionsPerClient) refuse('hls.maxSessionsPerClient', `too many HLS sessions from this client (${maxSessionsPerClient})`);
  }

  private forget(key: string, session: HlsSession): void {
    if (!this.sessions.delete(key)) return;
    this.perStream.remove(session.path);
    this.perClient.remove(session.client);
  }

  private dropSession(session: HlsSession, reason: string): void {
    this.forget(`${session.path}\n${session.id}`, session);
    session.close(reason);
  }

  private muxer(path: string): HlsMuxer {
    let muxer = this.muxers.get(path);
    if (!muxer) {
      muxer = this.createMuxer(path, false);
    }
    muxer.lastRequestAt = this.now();
    return muxer;
  }

  private createMuxer(path: string, pinned: boolean): HlsMuxer {
    const options = { targetSeconds: this.options.segmentSeconds, windowSegments: this.options.windowSegments };
    const muxer = new HlsMuxer(path, this.deps.feeds, options, this.now(), this.deps.log.child({ stream: path, component: 'hls' }), pinned);
    this.muxers.set(path, muxer);
    this.armSweep();
    return muxer;
  }

  /** hls.alwaysRemux: a published stream gets its muxer at once. */
  private pin(path: string): void {
    if (this.closed) return;
    const muxer = this.muxers.get(path) ?? this.createMuxer(path, true);
    muxer.ensureFeed().catch(() => undefined);
  }

  private armSweep(): void {
    if (this.sweepTimer || this.closed) return;
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }
}

/** How many sessions each key (a stream path, a client IP) holds; a key at zero is gone. */
class Counts {
  private readonly counts = new Map<string, number>();
  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  add(key: string): void {
    this.counts.set(key, this.of(key) + 1);
  }
  remove(key: string): void {
    const left = this.of(key) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }
  clear(): void {
    this.counts.clear();
  }
}

function newSessionId(): string {
  return randomBytes(12).toString('base64url');
}
