import { GatewayError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Sink } from '../../core/sink';
import type { Registry } from '../../hub/registry';
import type { Dialog } from '../../../sip/gb28181/invite';
import type { GbServer } from '../../../sip/gb28181/server';
import { SsrcAllocator } from '../../../sip/gb28181/ssrc';
import type { GbChannelStore, GbDeviceStore } from '../../../sip/gb28181/store';
import type { GbMediaFactory } from './media';
import { PlaySession, type PlayInfo, type PlaySessionDeps } from './play-session';
import type { PlaybackControl } from '../../../sip/gb28181/mansrtsp';

export const GB_APP = 'rtp';
const STREAM = /^(\d{20})_([0-9A-Za-z]{10,32})(?:_(sub)|_(\d{10}|\d{14})_(\d{10}|\d{14}))?$/;

export interface GbPath {
  deviceId: string;
  channelId: string;
  /** `_sub`: the channel's second stream. */
  streamNumber?: number;
  /** `_{start}_{end}`: a playback of the device's recording, Unix seconds. */
  range?: { start: number; end: number };
}

/** Unix seconds (10 digits) or local `YYYYMMDDHHMMSS` (wvp's form) -> Unix seconds. */
function pathTime(text: string): number {
  if (text.length === 10) return Number(text);
  const [y, mo, d, h, mi, se] = [0, 4, 6, 8, 10, 12].map((at, i) => Number(text.slice(at, at + (i === 0 ? 4 : 2))));
  return Math.floor(new Date(y!, mo! - 1, d!, h!, mi!, se!).getTime() / 1000);
}

/**
 * `rtp/{deviceId}_{channelId}` (live), `..._sub` (sub-stream), `..._{start}_{end}` (playback)
 * -> its parts; undefined for other paths.
 */
export function parseGbPath(path: string): GbPath | undefined {
  const [app, stream] = path.split('/');
  const match = app === GB_APP && stream ? STREAM.exec(stream) : null;
  if (!match) return undefined;
  const out: GbPath = { deviceId: match[1]!, channelId: match[2]! };
  if (match[3]) out.streamNumber = 1;
  if (match[4] && match[5]) out.range = { start: pathTime(match[4]), end: pathTime(match[5]) };
  return out;
}

export function playbackPath(deviceId: string, channelId: string, start: number, end: number): string {
  return `${GB_APP}/${deviceId}_${channelId}_${start}_${end}`;
}

export function gbPath(deviceId: string, channelId: string): string {
  return `${GB_APP}/${deviceId}_${channelId}`;
}

/** Where a channel's downloads (s=Download) publish and are recorded: never INVITEd on demand. */
export function downloadPath(deviceId: string, channelId: string): string {
  return `${GB_APP}/${deviceId}_${channelId}_download`;
}

/**
 * Where a pull's stream lives when that is not this process's hub: a cluster worker the media
 * receiver was placed on (app/cluster/gb-media.ts). SIP and the dialog stay here.
 */
export interface GbStreamHost {
  /** Opens the INVITE's receiver there: its port goes into the SDP. */
  readonly media: GbMediaFactory;
  /** Readers of the path there (a pull that ended with readers left is INVITEd again). */
  readerCount(path: string): Promise<number>;
  /** Ends the stream there and its copies on the other workers (the pull is over). */
  kick(path: string, reason: string): void;
}

export interface GbBridgeOptions {
  gb: GbServer;
  registry: Registry;
  devices: GbDeviceStore;
  channels: GbChannelStore;
  media: GbMediaFactory;
  mediaIp: string;
  mediaTimeoutMs: number;
  /** A paused playback is held this long at most. */
  pauseTimeoutMs?: number;
  /** How long POST /api/play waits for the stream. */
  startTimeoutMs: number;
  log: Logger;
}

/**
 * Makes `rtp/{deviceId}_{channelId}` an on-demand path: the first viewer (any protocol) INVITEs
 * the channel, `hub.closeAfter` after the last one leaves the dialog gets its BYE. A pull that
 * ends while viewers remain (device BYE, silence) is INVITEd again once; after that, new viewers
 * start it again.
 */
export class GbBridge {
  private readonly ssrcs: SsrcAllocator;
  private readonly pulls = new Map<string, PlaySession>();
  private readonly recent: PlayInfo[] = [];
  private readonly unsubscribe: (() => void)[] = [];
  /** Paused playbacks: the reader that keeps each one up, and the timer that ends it. */
  private readonly holds = new Map<string, { release(): void }>();
  /** Paths whose stream lives on another worker (startFor). */
  private readonly hosts = new Map<string, GbStreamHost>();
  private closed = false;

  constructor(private readonly options: GbBridgeOptions) {
    this.ssrcs = new SsrcAllocator(options.gb.config.domain);
    this.unsubscribe.push(options.registry.registerOnDemand(`${GB_APP}/*`, (path) => this.startPull(path)));
    this.unsubscribe.push(options.gb.events.on('dialogEnded', (dialog, reason) => this.dialogEnded(dialog, reason)));
    this.unsubscribe.push(
      options.gb.events.on('mediaEnded', (callId) => {
        for (const session of this.pulls.values()) if (session.dialogCallId === callId) session.deviceFinished = true;
      }),
    );
  }

  /** Live and starting pulls, then the last few that ended (with why). */
  invites(): PlayInfo[] {
    return [...[...this.pulls.values()].map((s) => s.info()), ...this.recent];
  }

  inUseSsrcs(): number {
    return this.ssrcs.size;
  }

  /**
   * Starts the channel as a viewer would and returns once it plays (POST /api/play): the stream
   * then lives `hub.closeAfter` unless somebody watches.
   */
  async play(deviceId: string, channelId: string): Promise<string> {
    const path = gbPath(deviceId, channelId);
    const subscription = await this.options.registry.subscribe(path, apiSink(), { waitMs: this.options.startTimeoutMs });
    subscription.close('play API: started');
    return path;
  }

  /** Stops a pull now (BYE) and ends its stream. */
  async stop(deviceId: string, channelId: string, reason = 'stopped through the API', path = gbPath(deviceId, channelId)): Promise<boolean> {
    const session = this.pulls.get(path);
    const kicked = this.options.registry.kick(path, reason);
    this.hosts.get(path)?.kick(path, reason);
    if (!session) return kicked;
    await session.stop(reason);
    return true;
  }

  /** Stops every pull of a device (deleted through the API): live, sub-stream, playback and download paths alike. */
  async stopDevice(deviceId: string, reason: string): Promise<void> {
    const targets = [...this.pulls.values()].filter((s) => s.target.deviceId === deviceId).map((s) => s.target);
    await Promise.all(targets.map((t) => this.stop(deviceId, t.channelId, reason, t.path)));
  }

  close(): void {
    this.closed = true;
    for (const path of [...this.holds.keys()]) this.release(path);
    for (const off of this.unsubscribe) off();
  }

  /**
   * The pull of `path` for a stream that lives on another worker (`host`): the INVITE names that
   * worker's receiver port. That worker owns the stream, counts its readers and starts the pull
   * again when a reader comes back after it ended (app/cluster/gb-media.ts).
   */
  async startFor(path: string, host: GbStreamHost): Promise<{ stop(reason: string): Promise<void> }> {
    const ids = parseGbPath(path);
    if (!ids) throw new GatewayError('STREAM_NOT_FOUND', `stream ${path} is not a GB28181 path`);
    if (this.pulls.has(path)) throw new GatewayError('STREAM_BUSY', `stream ${path} is pulled already`);
    this.hosts.set(path, host);
    try {
      await this.checkRange(path, ids);
      const device = await this.admitDevice(path, ids);
      await this.runSession(path, ids, device.streamMode);
    } catch (err) {
      this.hosts.delete(path);
      throw err;
    }
    return {
      stop: async (reason: string) => {
        await this.pulls.get(path)?.stop(reason);
        if (!this.pulls.has(path)) this.hosts.delete(path);
      },
    };
  }

  private checkRange(path: string, ids: GbPath): Promise<void> {
    if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
    if (ids.range && !(ids.range.end > ids.range.start)) throw new GatewayError('BAD_REQUEST', `stream ${path}: the playback range ends before it starts`);
    return Promise.resolve();
  }

  private async startPull(path: string): Promise<{ stop(reason: string): Promise<void> } | undefined> {
    const ids = parseGbPath(path);
    // Not a GB28181 path (rtp/cam7 of an API receiver): its viewers wait for a publisher.
    if (!ids) {
      if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
      return undefined;
    }
    await this.checkRange(path, ids);
    const device = await this.admitDevice(path, ids);
    const first = await this.runSession(path, ids, device.streamMode);
    if (first.kind === 'playback') return { stop: (reason: string) => this.pulls.get(path)?.stop(reason) ?? Promise.resolve() };
    // After a pull ended by itself the hub keeps this source until closeAfter: a viewer coming
    // back meanwhile starts a new pull here.
    let stopped = false;
    let lastRestart = 0;
    const offReaders = this.options.registry.events.on('readers', (changed, count) => {
      if (changed !== path || stopped || count === 0 || this.pulls.has(path) || Date.now() - lastRestart < 3000) return;
      lastRestart = Date.now();
      const mode = this.options.devices.get(ids.deviceId)?.streamMode ?? device.streamMode;
      this.runSession(path, ids, mode).catch((err: unknown) => this.options.registry.kick(path, errorMessage(err)));
    });
    return {
      stop: async (reason: string) => {
        stopped = true;
        offReaders();
        await this.pulls.get(path)?.stop(reason);
      },
    };
  }

  /** Admission as the gateway's own publisher, then the device must be known, its channel not gone, and the device online. */
  private async admitDevice(path: string, ids: GbPath): Promise<{ streamMode: PlaySession['target']['mode'] }> {
    await this.options.registry.admission.admit({ action: 'publish', path, protocol: 'gb28181', query: {}, internal: true });
    const device = this.options.devices.get(ids.deviceId);
    if (!device) throw new GatewayError('DEVICE_NOT_FOUND', `stream ${path}: device ${ids.deviceId} is not known (it never registered and was not provisioned)`);
    const channel = this.options.channels.get(ids.deviceId, ids.channelId);
    if (channel?.gone) throw new GatewayError('SOURCE_START_FAILED', `stream ${path}: channel ${ids.channelId} is no longer in the catalog of device ${ids.deviceId}`);
    if (!this.options.gb.session(ids.deviceId)) {
      throw new GatewayError('DEVICE_OFFLINE', `stream ${path}: device ${ids.deviceId} is offline${device.offlineReason ? ` (${device.offlineReason})` : ''}`);
    }
    return device;
  }

  /**
   * A download (s=Download, `a=downloadspeed`) of a channel's range (Unix seconds) at
   * downloadPath: not on demand (whoever asked reads it, e.g. a recorder). Resolves with the
   * session once media flows; `onEnd` hears why it ended by itself (MediaStatus 121, BYE, silence).
   */
  async download(deviceId: string, channelId: string, range: { start: number; end: number }, speed: number, onEnd: (reason: string) => void): Promise<PlaySession> {
    if (this.closed) throw new GatewayError('CLOSED', 'the gateway is shutting down');
    const path = downloadPath(deviceId, channelId);
    if (this.pulls.has(path)) throw new GatewayError('STREAM_BUSY', `channel ${channelId} of device ${deviceId} is being downloaded already (one download per channel at a time)`);
    const ids = { deviceId, channelId };
    const device = await this.admitDevice(path, ids);
    const session = new PlaySession(this.sessionDeps(), { path, deviceId, channelId, mode: device.streamMode, kind: 'download', range, downloadSpeed: speed });
    this.pulls.set(path, session);
    try {
      await session.start((reason) => {
        this.forget(session);
        this.options.registry.kick(path, reason);
        onEnd(reason);
      });
    } catch (err) {
      this.forget(session);
      throw err;
    }
    return session;
  }

  /** Ends a download now (BYE). */
  async stopDownload(session: PlaySession, reason: string): Promise<void> {
    await session.stop(reason);
    this.forget(session);
  }

  private sessionDeps(path?: string): PlaySessionDeps {
    const { options } = this;
    const media = (path !== undefined ? this.hosts.get(path)?.media : undefined) ?? options.media;
    return { gb: options.gb, ssrcs: this.ssrcs, media, mediaIp: options.mediaIp, mediaTimeoutMs: options.mediaTimeoutMs, log: options.log };
  }

  private async runSession(path: string, ids: GbPath, mode: PlaySession['target']['mode'], retried = false): Promise<PlaySession> {
    const session = new PlaySession(this.sessionDeps(path), {
      path,
      deviceId: ids.deviceId,
      channelId: ids.channelId,
      mode,
      kind: ids.range ? 'playback' : 'live',
      ...(ids.range ? { range: ids.range } : {}),
      ...(ids.streamNumber !== undefined ? { streamNumber: ids.streamNumber } : {}),
    });
    this.pulls.set(path, session);
    try {
      await session.start((reason) => void this.sessionEnded(session, reason, retried));
    } catch (err) {
      this.forget(session);
      // Stopped on purpose while starting (API stop, shutdown): not a failure to report.
      if (!session.stopRequested) throw err;
    }
    return session;
  }

  /** A live pull ended by itself: INVITE once more if viewers are still there, else end the stream. */
  private async sessionEnded(session: PlaySession, reason: string, retried: boolean): Promise<void> {
    this.forget(session);
    const { path, deviceId, mode } = session.target;
    if (this.closed) return;
    const host = this.hosts.get(path);
    const readers = host ? await host.readerCount(path).catch(() => 0) : this.options.registry.readerCount(path);
    // A new pull of the path started meanwhile (its receiver's worker died and it was placed again): it is not this one's to end.
    if (this.pulls.has(path)) return;
    // A playback that ended (MediaStatus 121, BYE) is over: its viewers get the end of the stream.
    if (retried || session.kind === 'playback' || readers === 0 || !this.options.gb.session(deviceId)) return this.endStream(path, host, reason);
    this.options.log.info({ stream: path, reason }, 'GB28181 pull ended with viewers left: INVITE again');
    this.runSession(path, parseGbPath(path)!, mode, true).catch((err: unknown) => {
      this.options.log.warn({ stream: path, err: errorMessage(err) }, 'GB28181 re-INVITE failed');
      if (!this.pulls.has(path)) this.endStream(path, host, `${reason}; INVITE again failed: ${errorMessage(err)}`);
    });
  }

  /** The pull of `path` is over: its stream ends where it lives (`host`: another worker, which ends the copies here too). */
  private endStream(path: string, host: GbStreamHost | undefined, reason: string): void {
    if (host) host.kick(path, reason);
    else this.options.registry.kick(path, reason);
    if (this.hosts.get(path) === host) this.hosts.delete(path);
  }

  /**
   * Playback control. A paused playback is held by a reader of its own (no close for lack of
   * viewers) and its receiver ignores silence, for `pauseTimeoutMs` at most (wvp#797).
   */
  async control(path: string, control: PlaybackControl): Promise<PlayInfo> {
    const session = this.pulls.get(path);
    if (!session) throw new GatewayError('STREAM_NOT_FOUND', `no GB28181 playback at ${path}`);
    await session.control(control);
    if (control.action === 'pause') await this.hold(session);
    else this.release(path);
    return session.info();
  }

  private async hold(session: PlaySession): Promise<void> {
    const path = session.target.path;
    if (this.holds.has(path)) return;
    const limit = this.options.pauseTimeoutMs ?? 300_000;
    const subscription = await this.options.registry.subscribe(path, apiSink(), { waitMs: 1000 });
    const timer = setTimeout(() => {
      this.release(path);
      void this.stop(session.target.deviceId, session.target.channelId, `paused longer than sip.playbackPauseTimeout (${Math.round(limit / 1000)} s)`, path);
    }, limit);
    this.holds.set(path, {
      release: () => {
        clearTimeout(timer);
        subscription.close('playback resumed');
      },
    });
  }

  private release(path: string): void {
    const hold = this.holds.get(path);
    if (!hold) return;
    this.holds.delete(path);
    hold.release();
  }

  private forget(session: PlaySession): void {
    this.release(session.target.path);
    if (this.pulls.get(session.target.path) === session) this.pulls.delete(session.target.path);
    this.recent.unshift(session.info());
    this.recent.splice(20);
  }

  private dialogEnded(dialog: Dialog, reason: string): void {
    for (const session of this.pulls.values()) {
      if (session.dialogCallId === dialog.callId) session.dialogEnded(reason);
    }
  }
}

/** A sink that only holds the stream open while POST /api/play waits for it to start. */
function apiSink(): Sink {
  return {
    onStart: () => undefined,
    onTracks: () => undefined,
    onFrame: () => undefined,
    onEnd: () => undefined,
    pendingBytes: () => 0,
    describe: () => ({ protocol: 'api', bytesOut: 0 }),
  };
}
