/**
 * The tile's speaker button for G.711 camera audio (a TileAddon of tile-player.ts): shown when
 * the stream carries A-law or µ-law, muted by default, one click to listen, a level meter while
 * it plays. The meter's numbers are also on the button (`data-rms`, `data-peak-hz`, `data-sync-ms`:
 * sound ahead of the picture) for tests. Live by default; a recorded range gives its own feed.
 */
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import { audioFeedUrl, G711Audio, type G711AudioState } from './g711-audio';
import type { PlayPrep } from './play-prep';
import type { TileAddon, TilePlayer } from './tile-player';

registerMessages('audio', {
  en: { listen: 'Listen', mute: 'Mute', connecting: 'audio…', noAudio: 'no G.711 audio', error: 'audio lost: {reason}' },
  'zh-CN': { listen: '收听', mute: '静音', connecting: '音频连接中…', noAudio: '没有 G.711 音频', error: '音频中断：{reason}' },
});

/** How often the button asks whether a not-yet-live stream has G.711 (until it knows). */
const PROBE_MS = 3000;
const METER_MS = 200;

function hasG711(codecs: readonly string[] | undefined): boolean | undefined {
  if (!codecs || codecs.length === 0) return undefined;
  return codecs.some((c) => c.startsWith('g711'));
}

/** The query (token=...) of a signed WS-FLV URL, to sign the audio feed the same way. */
function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}

/** What a recorded range (the playback page) gives instead of the live feed of the tile's path. */
export interface G711AddonOptions {
  /** The feed's URL at each open (a range's, from where the picture is). */
  feedUrl: () => string;
  /** The stream clock's ms at the video's currentTime 0 (a range's timeline starts at 0). */
  baseMs: () => number;
  /** Turned on at once (the operator was listening before a seek). */
  listening: boolean;
  /** Told when the operator turns the sound on or off. */
  onListen: (on: boolean) => void;
  /** Why there is no sound now (playback above 1x): the button is shown disabled with it. */
  blocked?: string;
}

export function g711Addon(ctx: AppContext, prep: PlayPrep, range?: G711AddonOptions): TileAddon {
  return (tile: TilePlayer) => {
    let audio: G711Audio | undefined;
    let probe: number | undefined;
    let meter: number | undefined;
    const level = el('span', { class: 'audio-level' });
    const toggle = el(
      'button',
      { type: 'button', class: 'audio-toggle', hidden: true, dataset: { path: tile.path, state: 'muted' }, 'aria-pressed': 'false' },
      `♪ ${ctx.t('audio.listen')}`,
    );
    const box = el('div', { class: 'tile-audio' }, toggle, level);
    tile.root.append(box);

    const show = (state: G711AudioState, reason?: string): void => {
      toggle.dataset.state = state;
      toggle.setAttribute('aria-pressed', String(state === 'playing' || state === 'connecting'));
      toggle.textContent = state === 'muted' || state === 'no-audio' || state === 'error' ? `♪ ${ctx.t('audio.listen')}` : `■ ${ctx.t('audio.mute')}`;
      level.textContent =
        state === 'connecting'
          ? ctx.t('audio.connecting')
          : state === 'no-audio'
            ? ctx.t('audio.noAudio')
            : state === 'error'
              ? ctx.t('audio.error', { reason: reason ?? '' })
              : '';
      if (state === 'no-audio') toggle.hidden = true;
    };

    const measure = (): void => {
      if (!audio || audio.state !== 'playing') return;
      const { rms, peakHz } = audio.level();
      toggle.dataset.rms = rms.toFixed(4);
      toggle.dataset.peakHz = peakHz.toFixed(0);
      const sync = audio.syncMs();
      if (sync === undefined) delete toggle.dataset.syncMs;
      else toggle.dataset.syncMs = sync.toFixed(0);
      level.style.setProperty('--level', String(Math.min(1, rms * 4)));
    };

    const listen = async (): Promise<void> => {
      if (!audio) {
        const url = range ? range.feedUrl : audioFeedUrl(location, tile.path, queryOf((await prep.prepare(tile.path)).wsFlv));
        audio = new G711Audio({ video: tile.video, url, onState: show, ...(range ? { baseMs: range.baseMs } : {}) });
      }
      range?.onListen(true);
      await audio.unmute();
      window.clearInterval(meter);
      meter = window.setInterval(measure, METER_MS);
    };

    toggle.addEventListener('click', () => {
      if (audio && (audio.state === 'playing' || audio.state === 'connecting')) {
        audio.mute();
        range?.onListen(false);
        window.clearInterval(meter);
        return;
      }
      void listen();
    });

    const check = async (): Promise<void> => {
      const status = await prep.status(tile.path).catch(() => undefined);
      const known = hasG711(status?.codecs);
      if (known === undefined) {
        probe = window.setTimeout(() => void check(), PROBE_MS);
        return;
      }
      toggle.hidden = !known;
    };

    if (!range) void check();
    else if (range.blocked) {
      toggle.hidden = false;
      toggle.disabled = true;
      toggle.dataset.state = 'blocked';
      level.textContent = range.blocked;
    } else {
      toggle.hidden = false;
      if (range.listening) void listen();
    }

    return () => {
      window.clearTimeout(probe);
      window.clearInterval(meter);
      audio?.close();
      box.remove();
    };
  };
}
