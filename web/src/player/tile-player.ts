import mpegts from 'mpegts.js';
import type { StreamStatusDto } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import type { PlayPrep } from './play-prep';
import { tileConnects } from './connect-gate';
import { drawCountdown, drawReason, type TileView } from './tile-reason';

registerMessages('player', {
  en: { behind: '{ms} ms behind' },
  'zh-CN': { behind: '落后直播 {ms} 毫秒' },
});

export interface TileStats {
  path: string;
  codec: string;
  width: number;
  height: number;
  kbps: number;
  /** Seconds of media the browser holds ahead of what it shows (what latency chasing keeps small). */
  behindLiveMs: number;
  decodedFrames: number;
  droppedFrames: number;
  reconnects: number;
}

export interface TilePlayerOptions {
  path: string;
  ctx: AppContext;
  /** Signs and checks paths for many tiles in one request. */
  prep: PlayPrep;
  /** The name shown in the overlay (a channel name); the path when absent. */
  label?: string;
  /** Another URL than the live WS-FLV of `path` (playback ranges): the player adds nothing to it. */
  url?: () => Promise<string>;
  /** Latency chasing on (live) or off (playback). */
  live?: boolean;
  /** The source's audio is G.711 (known from a recording's index): play the picture alone from the start. */
  withoutAudio?: boolean;
}

/** Something that rides along a tile (G.711 audio): attached once the <video> exists, detached with it. */
export type TileAddon = (player: TilePlayer) => () => void;

// A wall of 16 would print every demuxer step of every tile: warnings and errors only.
mpegts.LoggingControl.applyConfig({ enableAll: false, enableDebug: false, enableVerbose: false, enableInfo: false, enableWarn: true, enableError: true });

/** A stream that played and dropped: back soon (a publisher reconnecting, a network blip). */
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15_000];
/**
 * A source that said no or is not there (refused, unanswered, offline, no RTP, wrong password):
 * asking again every second only hammers the camera. Minutes, or at once when the event channel
 * says the device came online or the stream is up, or when the operator presses retry.
 */
const WAIT_MS = [60_000, 120_000, 300_000];
const WAITING_STATES = new Set<StreamStatusDto['state']>([
  'device-offline',
  'device-unknown',
  'invite-refused',
  'invite-timeout',
  'no-rtp',
  'ssrc-mismatch',
  'rtsp-auth',
  'missing',
]);
const LIVE_CHASE = {
  liveBufferLatencyChasing: true,
  liveBufferLatencyChasingOnPaused: true,
  liveBufferLatencyMaxLatency: 0.8,
  liveBufferLatencyMinRemain: 0.2,
  liveSync: true,
  liveSyncMaxLatency: 0.35,
  liveSyncTargetLatency: 0.2,
  liveSyncPlaybackRate: 1.2,
} satisfies mpegts.Config;

/** `video/mp4; codecs="…"` for the codec the gateway names, to ask MSE before playing. */
export function mseType(codec: string): string | undefined {
  if (codec === 'h265') return 'video/mp4; codecs="hvc1.1.6.L93.B0"';
  if (codec === 'h264') return 'video/mp4; codecs="avc1.42E01E"';
  return undefined;
}

/**
 * One live (or playback) tile: mpegts.js over WebSocket-FLV (WebSockets are not held by the
 * browser's six HTTP/1.1 connections per host), latency chasing, reconnect with backoff in
 * place, and an overlay with the name, codec and size, bit rate, how far behind, and when
 * there is no picture the server's reason in plain words.
 */
export class TilePlayer {
  readonly root: HTMLElement;
  readonly video: HTMLVideoElement;
  private readonly overlay: HTMLElement;
  private readonly reason: HTMLElement;
  private player: mpegts.Player | undefined;
  /** This tile's turn to open its WebSocket (connect-gate.ts), held until the first bytes. */
  private releaseConnect: (() => void) | undefined;
  /** Counts stops, so a play that waited for its turn stands down when the tile stopped or played anew meanwhile. */
  private stops = 0;
  /** Tries since the picture was last there (fast backoff), and since the source last said no (slow). */
  private attempt = 0;
  private waits = 0;
  private retryTimer: number | undefined;
  private statsTimer: number | undefined;
  private destroyed = false;
  private kbps = 0;
  private codec = '';
  /** The FLV carries G.711, which mpegts.js cannot decode: the picture plays alone (g711-addon.ts plays the sound). */
  private withoutAudio = false;
  private reconnects = 0;
  private lastFrames = 0;
  private stalledChecks = 0;
  /** The picture moved since the last (re)start: a drop then is a lost stream, not a source saying no. */
  private played = false;
  private readonly addons: (() => void)[] = [];
  private readonly unsubscribe: (() => void)[] = [];
  /** What the overlay says, kept as state and drawn in the page's language (see tile-reason.ts). */
  private view: TileView = { kind: 'connecting' };

  constructor(
    container: HTMLElement,
    private readonly options: TilePlayerOptions,
  ) {
    this.video = el('video', { muted: true, autoplay: true, playsinline: true, dataset: { path: options.path }, title: options.label ?? options.path });
    this.video.muted = true;
    if (options.withoutAudio) this.withoutAudio = true;
    this.overlay = el('div', { class: 'tile-stats' });
    this.reason = el('div', { class: 'tile-reason', role: 'status' });
    this.root = el('div', { class: 'tile-player' }, this.video, this.overlay, this.reason);
    container.append(this.root);
    // The first picture (the GOP cache's keyframe) hides the reason line at once, not at the next tick.
    for (const type of ['loadeddata', 'playing']) this.video.addEventListener(type, () => this.pictureArrived());
    this.listenForSource();
    this.statsTimer = window.setInterval(() => this.tick(), 1000);
    this.render();
    void this.start();
  }

  get path(): string {
    return this.options.path;
  }

  /** Runs `addon` now and undoes it when the tile goes. */
  attach(addon: TileAddon): void {
    this.addons.push(addon(this));
  }

  stats(): TileStats {
    const quality = this.video.getVideoPlaybackQuality();
    const buffered = this.video.buffered;
    const end = buffered.length > 0 ? buffered.end(buffered.length - 1) : this.video.currentTime;
    return {
      path: this.options.path,
      codec: this.codec,
      width: this.video.videoWidth,
      height: this.video.videoHeight,
      kbps: this.kbps,
      behindLiveMs: Math.max(0, Math.round((end - this.video.currentTime) * 1000)),
      decodedFrames: quality.totalVideoFrames,
      droppedFrames: quality.droppedVideoFrames,
      reconnects: this.reconnects,
    };
  }

  destroy(): void {
    this.destroyed = true;
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.statsTimer);
    for (const undo of this.addons.splice(0)) undo();
    for (const off of this.unsubscribe.splice(0)) off();
    this.stopPlayer();
    this.root.remove();
  }

  /** Starts again now (the retry button, or the event channel saying the source is back). */
  restartNow(): void {
    // Playing, or a player already trying (the server waits for the source): nothing to restart.
    if (this.destroyed || this.view.kind === 'playing' || this.view.kind === 'codec' || (this.player && this.retryTimer === undefined)) return;
    window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.waits = 0;
    this.attempt = 0;
    void this.start();
  }

  /** A device coming online, the stream going up, a proxy playing: a waiting tile tries at once. */
  private listenForSource(): void {
    const { events } = this.options.ctx;
    const path = this.options.path;
    const device = /^rtp\/(\d{20})_\d{20}$/.exec(path)?.[1];
    this.unsubscribe.push(
      events.on('stream.up', (e) => e.path === path && this.restartNow()),
      events.on('proxy.state', (e) => e.path === path && e.state === 'playing' && this.restartNow()),
      events.on('device.online', (e) => e.deviceId === device && this.restartNow()),
    );
  }

  private setView(view: TileView): void {
    this.view = view;
    this.render();
  }

  private render(): void {
    drawReason(this.options.ctx, this.reason, this.view, () => this.restartNow());
  }

  private async start(): Promise<void> {
    if (this.destroyed) return;
    const { prep, path } = this.options;
    this.played = false;
    if (this.view.kind !== 'waiting') this.setView({ kind: 'connecting' });
    let url: string;
    let status: StreamStatusDto | undefined;
    try {
      if (this.options.url) url = await this.options.url();
      else {
        const prepared = await prep.prepare(path);
        status = prepared.status;
        url = prepared.wsFlv;
      }
    } catch (err) {
      return this.retry((err as Error).message);
    }
    if (this.destroyed) return;
    // An on-demand source or a publisher may still come: play anyway (the server waits for it), the last word stays up meanwhile.
    if (status && status.state !== 'live' && status.state !== 'starting' && this.view.kind !== 'waiting') this.setView({ kind: 'waiting', status, attempt: this.attempt });
    if (status?.codecs?.some((c) => c.startsWith('g711'))) this.withoutAudio = true;
    if (status?.videoCodec && !this.canDecode(status.videoCodec)) return;
    void this.play(url);
  }

  private canDecode(codec: string): boolean {
    const type = mseType(codec);
    if (!type || MediaSource.isTypeSupported(type)) return true;
    this.setView({ kind: 'codec', codec, alternatives: this.alternatives() });
    return false;
  }

  /** The addresses a person can try where this browser cannot decode the stream. */
  private alternatives(): string[] {
    const base = `${location.protocol}//${location.host}/${this.options.path}`;
    const out = [`${base}/index.m3u8`, `${base}.ts`];
    if (!this.options.path.endsWith('_sub') && this.options.path.startsWith('rtp/')) out.unshift(`${location.protocol}//${location.host}/${this.options.path}_sub.flv`);
    return out;
  }

  private async play(url: string): Promise<void> {
    this.stopPlayer();
    const stopsBefore = this.stops;
    const release = await tileConnects.take();
    if (this.destroyed || stopsBefore !== this.stops) return release();
    this.releaseConnect = release;
    const live = this.options.live ?? true;
    const player = mpegts.createPlayer(
      { type: 'flv', isLive: live, url, ...(this.withoutAudio ? { hasAudio: false } : {}) },
      { enableWorker: false, enableStashBuffer: !live, stashInitialSize: 128 * 1024, lazyLoad: !live, autoCleanupSourceBuffer: true, ...(live ? LIVE_CHASE : {}) },
    );
    player.on(mpegts.Events.METADATA_ARRIVED, release);
    player.on(mpegts.Events.ERROR, (_type: string, detail: string, info: unknown) => {
      release();
      if (!this.withoutAudio && typeof info === 'string' && info.includes('Unsupported audio codec')) {
        // Found out from the stream itself (a playback range, a source not live when asked): again without its audio, at once.
        this.withoutAudio = true;
        window.setTimeout(() => void this.play(url), 0);
        return;
      }
      this.retry(detail);
    });
    // A playback range that was read to its end is done, not lost.
    player.on(mpegts.Events.LOADING_COMPLETE, () => live && this.retry('the stream ended'));
    player.on(mpegts.Events.MEDIA_INFO, (info: mpegts.MSEPlayerMediaInfo) => {
      release();
      this.codec = info.videoCodec ?? '';
    });
    player.on(mpegts.Events.STATISTICS_INFO, (info: mpegts.MSEPlayerStatisticsInfo) => {
      this.kbps = Math.round((info.speed ?? 0) * 8);
    });
    player.attachMediaElement(this.video);
    player.load();
    void this.video.play()?.catch(() => undefined);
    this.player = player;
  }

  private stopPlayer(): void {
    this.stops += 1;
    this.releaseConnect?.();
    this.releaseConnect = undefined;
    const player = this.player;
    this.player = undefined;
    if (!player) return;
    try {
      player.pause();
      player.unload();
      player.detachMediaElement();
      player.destroy();
    } catch {
      // already torn down by an error
    }
  }

  /**
   * Reconnects in place (same tile, same <video>). Asks the server why first: a stream that was
   * playing comes back fast with backoff; a source that refused, did not answer or is offline
   * waits minutes (or the event channel, or the retry button).
   */
  private retry(why: string): void {
    if (this.destroyed || this.retryTimer !== undefined) return;
    this.stopPlayer();
    this.reconnects += 1;
    const wasPlaying = this.played;
    this.retryTimer = -1;
    const schedule = (status: StreamStatusDto | undefined): void => {
      if (this.destroyed || this.retryTimer !== -1) return;
      if (status?.videoCodec && status.state === 'live' && !this.canDecode(status.videoCodec)) return void (this.retryTimer = undefined);
      const waiting = status !== undefined && WAITING_STATES.has(status.state) && !(wasPlaying && status.state === 'missing');
      const delay = waiting ? (WAIT_MS[Math.min(this.waits++, WAIT_MS.length - 1)] ?? 300_000) : (BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] ?? 15_000);
      this.attempt += 1;
      const said = status && status.state !== 'live' && status.state !== 'starting' ? { status } : {};
      this.setView({ kind: 'waiting', ...said, why, retryAt: Date.now() + delay, attempt: this.attempt });
      this.retryTimer = window.setTimeout(() => {
        this.retryTimer = undefined;
        void this.start();
      }, delay);
    };
    if (this.options.url) return schedule(undefined);
    void this.options.prep.status(this.options.path).then(schedule, () => schedule(undefined));
  }

  private pictureArrived(): void {
    if (this.destroyed || !this.player || this.video.videoWidth === 0) return;
    this.played = true;
    this.attempt = 0;
    this.waits = 0;
    this.stalledChecks = 0;
    if (this.view.kind !== 'playing') this.setView({ kind: 'playing' });
    this.drawStats();
  }

  private drawStats(): void {
    const s = this.stats();
    const name = footerName(this.options.label ?? this.options.path);
    const size = s.width ? ` ${s.width}x${s.height}` : '';
    // Behind live means nothing for a playback range (what is buffered ahead is not lateness).
    const behind = this.options.live === false ? '' : ` · ${this.options.ctx.t('player.behind', { ms: s.behindLiveMs })}`;
    this.overlay.textContent = `${name} · ${s.codec || '—'}${size} · ${s.kbps} kb/s${behind}`;
  }

  private tick(): void {
    this.drawStats();
    const frames = this.video.getVideoPlaybackQuality().totalVideoFrames;
    // A new MediaSource (a reconnect on the same <video>) counts from 0 again.
    if (frames < this.lastFrames) this.lastFrames = 0;
    if (frames > this.lastFrames) {
      // Frames advance: the picture is there, whatever was said before.
      this.pictureArrived();
    } else if (this.player && frames > 0 && this.view.kind === 'playing') {
      // Nothing arrives for 5 s, or nothing decodes for 15 s: the connection is dead even if no error
      // came. Bytes arriving with frames late is a busy page, which a reconnect would only cost more.
      this.stalledChecks++;
      if ((this.kbps === 0 && this.stalledChecks >= 5) || this.stalledChecks >= 15) {
        const seconds = this.stalledChecks;
        this.stalledChecks = 0;
        this.retry(`no new frame for ${seconds} s`);
      }
    } else if (this.view.kind === 'waiting') drawCountdown(this.options.ctx, this.reason, this.view);
    this.lastFrames = frames;
  }
}

/** The footer keeps a long name's end (a GB28181 path's channel digits), the <video>'s title the whole. */
function footerName(name: string, max = 28): string {
  return name.length <= max ? name : `…${name.slice(-(max - 1))}`;
}
