import type { ChannelDto, Page as ListPage, ProxyDto, RecordingDaysDto, SignedUrlDto, StreamDto, TimelineDto } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import { g711Addon } from '../player/g711-addon';
import { PlayPrep } from '../player/play-prep';
import { TilePlayer } from '../player/tile-player';
import type { Page } from './index';
import { button, Notice } from './manage-ui';
import { PlaybackTimeline } from './playback-timeline';
import type { TimeView } from './timeline-scale';
import { dayBounds, localClock, localDate } from './zoned-day';

registerMessages('playback', {
  en: {
    title: 'Playback',
    path: 'Channel or stream',
    show: 'Show',
    prevMonth: 'Previous month',
    nextMonth: 'Next month',
    timeline: 'Recorded time of the day',
    zoomIn: 'Zoom in',
    zoomOut: 'Zoom out',
    earlier: 'Earlier',
    later: 'Later',
    speed: 'Speed',
    download: 'Download MP4',
    selectHint: 'Click the timeline to play from there; drag over it to select a range to download.',
    selected: 'Selected {from} – {to}',
    playing: 'Playing from {time} at {speed}x',
    nothing: 'Nothing recorded on {date}.',
    load: 'Loading recordings',
    soundAt1x: 'sound at 1x only',
    mon: 'Mo',
    tue: 'Tu',
    wed: 'We',
    thu: 'Th',
    fri: 'Fr',
    sat: 'Sa',
    sun: 'Su',
  },
  'zh-CN': {
    title: '录像回放',
    path: '通道或流',
    show: '查看',
    prevMonth: '上个月',
    nextMonth: '下个月',
    timeline: '当天的录像时间',
    zoomIn: '放大',
    zoomOut: '缩小',
    earlier: '向前',
    later: '向后',
    speed: '倍速',
    download: '下载 MP4',
    selectHint: '点击时间轴从该处开始播放；在时间轴上拖动可选择要下载的时间段。',
    selected: '已选择 {from} – {to}',
    playing: '从 {time} 开始以 {speed} 倍速播放',
    nothing: '{date} 没有录像。',
    load: '读取录像',
    soundAt1x: '仅 1 倍速有声音',
    mon: '一',
    tue: '二',
    wed: '三',
    thu: '四',
    fri: '五',
    sat: '六',
    sun: '日',
  },
});

const SPEEDS = [1, 2, 4, 8];
const WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Paths a person may want to play back: live streams, proxies and GB28181 channels. */
async function knownPaths(ctx: AppContext): Promise<string[]> {
  const [streams, proxies, channels] = await Promise.all([
    ctx.api<{ streams: StreamDto[] }>('GET', '/api/streams').catch(() => ({ streams: [] })),
    ctx.api<{ proxies: ProxyDto[] }>('GET', '/api/proxies').catch(() => ({ proxies: [] })),
    ctx.api<ListPage<ChannelDto>>('GET', '/api/channels?page=1&count=500').catch(() => ({ items: [] as ChannelDto[] })),
  ]);
  return [...new Set([...streams.streams.map((s) => s.path), ...proxies.proxies.map((p) => p.path), ...channels.items.map((c) => c.stream)])].sort();
}

/** A month grid (Monday first) whose days with recordings are marked; a click picks the day. */
function calendar(ctx: AppContext, month: string, days: ReadonlySet<string>, chosen: string, pick: (date: string) => void): HTMLElement {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  const first = new Date(Date.UTC(year, mon - 1, 1));
  const count = new Date(Date.UTC(year, mon, 0)).getUTCDate();
  const lead = (first.getUTCDay() + 6) % 7;
  const cells: HTMLElement[] = WEEK.map((d) => el('span', { class: 'weekday' }, ctx.t(`playback.${d}`)));
  for (let i = 0; i < lead; i++) cells.push(el('span', {}));
  for (let day = 1; day <= count; day++) {
    const date = `${month}-${String(day).padStart(2, '0')}`;
    const b = el('button', { type: 'button', class: `day${days.has(date) ? ' has-recordings' : ''}${date === chosen ? ' chosen' : ''}`, dataset: { date } }, String(day));
    b.addEventListener('click', () => pick(date));
    cells.push(b);
  }
  return el('div', { class: 'calendar' }, ...cells);
}

function shiftMonth(month: string, by: number): string {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, mon - 1 + by, 1)).toISOString().slice(0, 7);
}

/** Playback of recordings: a channel, a day (days with recordings marked), its timeline, click to play at 1/2/4/8x, drag to download MP4. */
export const playbackPage: Page = {
  id: 'playback',
  path: '/playback',
  titleKey: 'playback.title',
  mount(root: HTMLElement, ctx: AppContext): () => void {
    const { t } = ctx;
    const notice = new Notice(ctx);
    const prep = new PlayPrep(ctx);
    const params = new URLSearchParams(location.search);
    const state = {
      path: params.get('path') ?? '',
      month: '',
      date: '',
      timeZone: 'UTC',
      query: '',
      speed: 1,
      startMs: 0,
      range: null as TimeView | null,
      /** The day's recordings carry G.711 (the browser's player cannot decode it: the page does). */
      g711: false,
      /** The operator turned the sound on: it stays on through seeks and back at 1x. */
      listening: false,
    };
    let player: TilePlayer | undefined;
    const pathInput = el('input', { id: 'playback-path', list: 'playback-paths', value: state.path, placeholder: 'live/cam1', size: 36 });
    const options = el('datalist', { id: 'playback-paths' });
    const monthLabel = el('strong', { class: 'month' });
    const days = el('div', { class: 'days' });
    const stage = el('div', { class: 'playback-stage' });
    const status = el('p', { class: 'hint', id: 'playback-status' }, t('playback.selectHint'));
    const download = el('a', { class: 'button', id: 'playback-download', hidden: true, download: '' }, t('playback.download'));
    const speeds = el('div', { class: 'speeds', role: 'group', 'aria-label': t('playback.speed') });

    const timeline = new PlaybackTimeline(ctx, {
      play: (ms) => play(ms),
      select: (range) => {
        state.range = range;
        download.hidden = !range;
        if (!range) return;
        download.href = rangeUrl('mp4', range.startMs, range.endMs, true);
        status.textContent = t('playback.selected', { from: localClock(range.startMs, state.timeZone), to: localClock(range.endMs, state.timeZone) });
      },
    });

    const rangeUrl = (format: 'flv' | 'mp4', startMs: number, endMs?: number, attachment = false): string => {
      const q = new URLSearchParams({ start: String(Math.round(startMs)) });
      if (endMs !== undefined) q.set('end', String(Math.round(endMs)));
      if (format === 'flv') q.set('speed', String(state.speed));
      if (attachment) q.set('download', '1');
      const scheme = format === 'flv' ? (location.protocol === 'https:' ? 'wss:' : 'ws:') : location.protocol;
      return `${scheme}//${location.host}/record/${state.path}.${format}?${q}${state.query ? `&${state.query}` : ''}`;
    };

    /** The G.711 of the range that starts at `startMs`, from where its picture is now. */
    const audioUrl = (startMs: number, video: HTMLVideoElement): string => {
      const q = new URLSearchParams({ start: String(Math.round(startMs)), at: String(Math.round(video.currentTime * 1000)) });
      return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/record/${state.path}.g711?${q}${state.query ? `&${state.query}` : ''}`;
    };

    const play = (ms: number): void => {
      state.startMs = ms;
      player?.destroy();
      const url = rangeUrl('flv', ms);
      const tile = new TilePlayer(stage, {
        path: state.path,
        ctx,
        prep,
        label: `${state.path} ${localClock(ms, state.timeZone)}`,
        url: async () => url,
        live: false,
        withoutAudio: state.g711,
      });
      player = tile;
      tile.video.dataset.playbackStart = String(Math.round(ms));
      if (state.g711) {
        // Sound at 1x only (docs/architecture.md "Playback of recordings"): above it the button says so.
        tile.attach(
          g711Addon(ctx, prep, {
            feedUrl: () => audioUrl(ms, tile.video),
            baseMs: () => 0,
            listening: state.listening,
            onListen: (on) => (state.listening = on),
            ...(state.speed === 1 ? {} : { blocked: t('playback.soundAt1x') }),
          }),
        );
      }
      tile.video.playbackRate = state.speed;
      tile.video.addEventListener('loadeddata', () => (tile.video.playbackRate = state.speed));
      status.textContent = t('playback.playing', { time: localClock(ms, state.timeZone), speed: state.speed });
    };

    const drawSpeeds = (): void => {
      speeds.replaceChildren(
        el('span', {}, `${t('playback.speed')}: `),
        ...SPEEDS.map((s) =>
          button(
            `${s}x`,
            () => {
              // The server paces the range at the new speed: start again from where the picture is.
              const at = player ? state.startMs + player.video.currentTime * 1000 : undefined;
              state.speed = s;
              drawSpeeds();
              if (at !== undefined) play(at);
            },
            { 'aria-pressed': String(s === state.speed) },
          ),
        ),
      );
    };

    const signed = async (): Promise<void> => {
      const sign = await ctx.api<SignedUrlDto>('POST', '/api/auth/sign', { path: state.path });
      state.query = sign.query;
    };

    const showMonth = async (): Promise<void> => {
      const answer = await ctx.api<RecordingDaysDto>('GET', `/api/recordings/days?path=${encodeURIComponent(state.path)}&month=${state.month}&${state.query}`);
      state.timeZone = answer.timeZone;
      monthLabel.textContent = state.month;
      days.replaceChildren(calendar(ctx, state.month, new Set(answer.days), state.date, (date) => void notice.run(t('playback.load'), () => showDay(date))));
      return undefined;
    };

    const showDay = async (date: string): Promise<void> => {
      state.date = date;
      const bounds = dayBounds(date, state.timeZone);
      const answer = await ctx.api<TimelineDto>(
        'GET',
        `/api/recordings/timeline?path=${encodeURIComponent(state.path)}&start=${bounds.startMs}&end=${bounds.endMs}&${state.query}`,
      );
      timeline.setDay(bounds, answer.intervals, state.timeZone);
      state.g711 = answer.audioCodecs.some((c) => c.startsWith('g711'));
      for (const b of days.querySelectorAll<HTMLElement>('button.day')) b.classList.toggle('chosen', b.dataset.date === date);
      if (answer.intervals.length === 0) status.textContent = t('playback.nothing', { date });
    };

    const open = async (): Promise<void> => {
      state.path = pathInput.value.trim();
      if (!state.path) return;
      await notice.run(t('playback.load'), async () => {
        await signed();
        // The zone comes with the first days answer: ask for "this month" there by a first guess, then again if the zone's today differs.
        state.month = new Date().toISOString().slice(0, 7);
        await showMonth();
        const today = localDate(Date.now(), state.timeZone);
        if (today.slice(0, 7) !== state.month) {
          state.month = today.slice(0, 7);
          await showMonth();
        }
        await showDay(state.date || today);
      });
    };

    const moveMonth = (by: number): void => {
      state.month = shiftMonth(state.month, by);
      void notice.run(t('playback.load'), showMonth);
    };

    const form = el('form', { class: 'playback-pick' }, el('label', {}, `${t('playback.path')} `, pathInput), options, el('button', { type: 'submit' }, t('playback.show')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      state.date = '';
      void open();
    });
    const monthBar = el(
      'div',
      { class: 'month-bar' },
      button('‹', () => moveMonth(-1), { title: t('playback.prevMonth') }),
      monthLabel,
      button('›', () => moveMonth(1), { title: t('playback.nextMonth') }),
    );
    drawSpeeds();
    const page = el(
      'section',
      { class: 'playback-page' },
      el('h2', {}, t('playback.title')),
      form,
      el(
        'div',
        { class: 'playback-body' },
        el('aside', {}, monthBar, days),
        el('div', { class: 'playback-main' }, stage, el('div', { class: 'playback-controls' }, speeds, download), timeline.root, status),
      ),
      notice.root,
    );
    root.append(page);
    void knownPaths(ctx).then((paths) => options.replaceChildren(...paths.map((p) => el('option', { value: p }))));
    const head = window.setInterval(() => timeline.setPlayhead(player ? state.startMs + player.video.currentTime * 1000 : null), 250);
    if (state.path) void open();
    return () => {
      window.clearInterval(head);
      player?.destroy();
      page.remove();
    };
  },
};
