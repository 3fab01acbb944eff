import mpegts from 'mpegts.js';
import type { StreamStatusDto } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import { reasonText, type PlayPrep } from './play-prep';

registerMessages('player', {
  en: {
    connecting: 'connecting…',
    reconnecting: 'stream lost: reconnecting in {seconds} s (attempt {attempt})',
    behind: '{ms} ms behind',
    noH265: 'This browser cannot decode H.265. Try the other stream, or open the HLS or TS address:',
    codecUnsupported: 'This browser cannot decode {codec}.',
  },
  'zh-CN': {
    connecting: '正在连接…',
    reconnecting: '流已断开：{seconds} 秒后重连（第 {attempt} 次）',
    behind: '落后直播 {ms} 毫秒',
    noH265: '此浏览器无法解码 H.265。请换用另一路码流，或打开 HLS / TS 地址：',
    codecUnsupported: '此浏览器无法解码 {codec}。',
  },
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
}

/** Something that rides along a tile (G.711 audio): attached once the <video> exists, detached with it. */
export type TileAddon = (player: TilePlayer) => () => void;

// A wall of 16 would print every demuxer step of every tile: warnings and errors only.
mpegts.LoggingControl.applyConfig({ enableAll: false, enableDebug: false, enableVerbose: false, enableInfo: false, enableWarn: true, enableError: true });

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15_000];
const LIVE_CHASE = {
  liveBufferLatencyChasing: true,
  liveBufferLatencyChasingOnPaused: true,
  liveBufferLatencyMaxLatency: 0.8,
  liveBufferLatencyMinRemain: 0.2,
  liveSync: true,
  liveSyncMaxLatency: 0.5,
  liveSyncTargetLatency: 0.25,
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
  private attempt = 0;
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
  private readonly addons: (() => void)[] = [];
  /** The server's last word on why there is no picture, kept on screen through reconnects. */
  private lastReason: StreamStatusDto | undefined;

  constructor(
    container: HTMLElement,
    private readonly options: TilePlayerOptions,
  ) {
    this.video = el('video', { muted: true, autoplay: true, playsinline: true, dataset: { path: options.path } });
    this.video.muted = true;
    this.overlay = el('div', { class: 'tile-stats' });
    this.reason = el('div', { class: 'tile-reason', hidden: true, role: 'status' });
    this.root = el('div', { class: 'tile-player' }, this.video, this.overlay, this.reason);
    container.append(this.root);
    this.statsTimer = window.setInterval(() => this.tick(), 1000);
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
    this.stopPlayer();
    this.root.remove();
  }

  private async start(): Promise<void> {
    if (this.destroyed) return;
    const { ctx, prep, path } = this.options;
    this.showReason(ctx.t('player.connecting'), false, 'connecting');
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
    this.lastReason = status && status.state !== 'live' && status.state !== 'starting' ? status : undefined;
    if (status && this.lastReason) {
      this.showReason(reasonText(ctx, status), true, status.state);
      // An on-demand source or a publisher may still come: play anyway, the server waits for it.
    }
    if (status?.codecs?.some((c) => c.startsWith('g711'))) this.withoutAudio = true;
    if (status?.videoCodec && !this.canDecode(status)) return;
    this.play(url);
  }

  private canDecode(status: StreamStatusDto): boolean {
    const codec = status.videoCodec ?? '';
    const type = mseType(codec);
    if (!type || MediaSource.isTypeSupported(type)) return true;
    const { ctx } = this.options;
    this.reason.hidden = false;
    this.reason.className = 'tile-reason error';
    const lines: (Node | string)[] = [codec === 'h265' ? ctx.t('player.noH265') : ctx.t('player.codecUnsupported', { codec })];
    for (const alt of this.alternatives()) lines.push(el('br'), el('a', { href: alt, target: '_blank', rel: 'noopener' }, alt));
    this.reason.replaceChildren(...lines);
    this.reason.dataset.state = 'codec';
    return false;
  }

  /** The addresses a person can try where this browser cannot decode the stream. */
  private alternatives(): string[] {
    const base = `${location.protocol}//${location.host}/${this.options.path}`;
    const out = [`${base}/index.m3u8`, `${base}.ts`];
    if (!this.options.path.endsWith('_sub') && this.options.path.startsWith('rtp/')) out.unshift(`${location.protocol}//${location.host}/${this.options.path}_sub.flv`);
    return out;
  }

  private play(url: string): void {
    this.stopPlayer();
    const live = this.options.live ?? true;
    const player = mpegts.createPlayer(
      { type: 'flv', isLive: live, url, ...(this.withoutAudio ? { hasAudio: false } : {}) },
      { enableWorker: false, enableStashBuffer: !live, stashInitialSize: 128 * 1024, lazyLoad: !live, autoCleanupSourceBuffer: true, ...(live ? LIVE_CHASE : {}) },
    );
    player.on(mpegts.Events.ERROR, (_type: string, detail: string, info: unknown) => {
      if (!this.withoutAudio && typeof info === 'string' && info.includes('Unsupported audio codec')) {
        // Found out from the stream itself (a playback range, a source not live when asked): again without its audio, at once.
        this.withoutAudio = true;
        window.setTimeout(() => this.play(url), 0);
        return;
      }
      this.retry(detail);
    });
    // A playback range that was read to its end is done, not lost.
    player.on(mpegts.Events.LOADING_COMPLETE, () => live && this.retry('the stream ended'));
    player.on(mpegts.Events.MEDIA_INFO, (info: mpegts.MSEPlayerMediaInfo) => {
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

  /** Reconnects in place (same tile, same <video>) after a growing pause; asks the server why first. */
  private retry(why: string): void {
    if (this.destroyed || this.retryTimer !== undefined) return;
    this.stopPlayer();
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] ?? 15_000;
    this.attempt += 1;
    this.reconnects += 1;
    const again = this.options.ctx.t('player.reconnecting', { seconds: (delay / 1000).toFixed(1), attempt: this.attempt });
    if (this.lastReason) this.showReason(reasonText(this.options.ctx, this.lastReason), true, this.lastReason.state, again);
    else this.showReason(again, true, 'reconnecting', why);
    void this.options.prep.status(this.options.path).then(
      (status) => {
        if (this.destroyed || status.state === 'live' || status.state === 'starting' || this.retryTimer === undefined) return;
        this.lastReason = status;
        this.showReason(reasonText(this.options.ctx, status), true, status.state, again);
      },
      () => undefined,
    );
    this.retryTimer = window.setTimeout(() => {
      this.retryTimer = undefined;
      void this.start();
    }, delay);
  }

  /** The line over a tile without a picture; `state` (a StreamStatusDto state, `connecting`, `reconnecting`, `codec`) goes in data-state. */
  private showReason(text: string, error: boolean, state: string, detail?: string): void {
    this.reason.hidden = false;
    this.reason.dataset.state = state;
    this.reason.className = error ? 'tile-reason error' : 'tile-reason';
    this.reason.replaceChildren(text, ...(detail ? [el('br'), el('small', {}, detail)] : []));
  }

  private tick(): void {
    const s = this.stats();
    const name = this.options.label ?? this.options.path;
    const size = s.width ? ` ${s.width}x${s.height}` : '';
    // Behind live means nothing for a playback range (what is buffered ahead is not lateness).
    const behind = this.options.live === false ? '' : ` · ${this.options.ctx.t('player.behind', { ms: s.behindLiveMs })}`;
    this.overlay.textContent = `${name} · ${s.codec || '—'}${size} · ${s.kbps} kb/s${behind}`;
    if (s.decodedFrames > this.lastFrames) {
      // Frames advance: the picture is there, whatever was said before.
      this.reason.hidden = true;
      this.reason.dataset.state = 'playing';
      this.attempt = 0;
      this.stalledChecks = 0;
    } else if (this.player && s.decodedFrames > 0) {
      // Nothing arrives for 5 s, or nothing decodes for 15 s: the connection is dead even if no error
      // came. Bytes arriving with frames late is a busy page, which a reconnect would only cost more.
      this.stalledChecks++;
      if ((s.kbps === 0 && this.stalledChecks >= 5) || this.stalledChecks >= 15) {
        const seconds = this.stalledChecks;
        this.stalledChecks = 0;
        this.retry(`no new frame for ${seconds} s`);
      }
    }
    this.lastFrames = s.decodedFrames;
  }
}
