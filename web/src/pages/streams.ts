import type { SessionDto, StreamDto } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import type { Page } from './index';
import { deleteButton, formatBytes, formatDuration, Notice, refreshOn, table } from './manage-ui';

registerMessages('streams', {
  en: {
    title: 'Live streams',
    path: 'Stream',
    tracks: 'Tracks',
    publisher: 'Publisher',
    readers: 'Viewers',
    rates: 'In / out',
    uptime: 'Up for',
    viewers: 'Viewers of {path}',
    protocol: 'Protocol',
    remote: 'Address',
    since: 'Watching for',
    sent: 'Sent',
    dropped: 'Dropped frames',
    kickStream: 'End stream',
    kickViewer: 'Kick',
    noStreams: 'No live stream.',
    noViewers: 'Nobody watches.',
    load: 'Loading the streams',
    kick: 'Kicking',
  },
  'zh-CN': {
    title: '直播流',
    path: '流',
    tracks: '轨道',
    publisher: '推流端',
    readers: '观看者',
    rates: '入 / 出',
    uptime: '已运行',
    viewers: '{path} 的观看者',
    protocol: '协议',
    remote: '地址',
    since: '已观看',
    sent: '已发送',
    dropped: '丢帧',
    kickStream: '结束流',
    kickViewer: '踢出',
    noStreams: '没有直播流。',
    noViewers: '无人观看。',
    load: '读取直播流',
    kick: '踢出',
  },
});

function trackText(stream: StreamDto): string {
  return stream.tracks.map((track) => ('width' in track ? `${track.codec} ${track.width}x${track.height}` : `${track.codec} ${track.sampleRate} Hz`)).join(', ');
}

/** Every live stream with its publisher and its viewers; an admin can end a stream or kick one viewer. */
export const streamsPage: Page = {
  id: 'streams',
  path: '/streams',
  titleKey: 'streams.title',
  mount(root: HTMLElement, ctx: AppContext): () => void {
    const { t } = ctx;
    const notice = new Notice(ctx);
    const body = el('div', {});
    const kick = (url: string, what: string) => async (): Promise<void> => {
      if (await notice.run(t('streams.kick'), () => ctx.api('DELETE', url))) notice.ok(t('manage.deleted', { what }));
      void load();
    };
    const viewersOf = (stream: StreamDto, sessions: SessionDto[]): HTMLDetailsElement => {
      const viewers = sessions.filter((s) => s.role === 'subscriber' && s.path === stream.path);
      const rows = viewers.map((v) => [
        v.protocol,
        v.remote ?? '—',
        formatDuration(Date.now() - v.since),
        formatBytes(v.bytes),
        String(v.framesDropped ?? 0),
        deleteButton(ctx, kick(`/api/sessions/${encodeURIComponent(v.id)}`, `${v.protocol} ${v.remote ?? v.id}`), t('streams.kickViewer')),
      ]);
      return el(
        'details',
        { class: 'viewers', dataset: { path: stream.path } },
        el('summary', {}, t('streams.viewers', { path: stream.path }), ` (${viewers.length})`),
        rows.length
          ? table([t('streams.protocol'), t('streams.remote'), t('streams.since'), t('streams.sent'), t('streams.dropped'), ''], rows)
          : el('p', { class: 'empty' }, t('streams.noViewers')),
      );
    };
    const load = async (): Promise<void> => {
      await notice.run(t('streams.load'), async () => {
        const [{ streams }, { sessions }] = await Promise.all([
          ctx.api<{ streams: StreamDto[] }>('GET', '/api/streams'),
          ctx.api<{ sessions: SessionDto[] }>('GET', '/api/sessions'),
        ]);
        if (streams.length === 0) {
          body.replaceChildren(el('p', { class: 'empty' }, t('streams.noStreams')));
          return;
        }
        const open = new Set([...body.querySelectorAll<HTMLDetailsElement>('details[open]')].map((d) => d.dataset.path));
        const rows = streams.map((s) => [
          el('code', {}, s.path),
          trackText(s),
          s.publisher ? `${s.publisher.kind} ${s.publisher.remote ?? ''}` : '—',
          Object.entries(s.readers.byProtocol)
            .map(([p, n]) => `${p} ${n}`)
            .join(', ') || '0',
          `${s.bitrateInKbps} / ${s.bitrateOutKbps} kb/s`,
          formatDuration(s.uptimeMs),
          deleteButton(ctx, kick(`/api/streams/${s.path}`, s.path), t('streams.kickStream')),
        ]);
        const details = streams.map((s) => viewersOf(s, sessions));
        for (const d of details) if (open.has(d.dataset.path)) d.open = true;
        body.replaceChildren(
          table([t('streams.path'), t('streams.tracks'), t('streams.publisher'), t('streams.readers'), t('streams.rates'), t('streams.uptime'), ''], rows),
          ...details,
        );
      });
    };
    const page = el('section', { class: 'manage-page' }, el('h2', {}, t('streams.title')), body, notice.root);
    root.append(page);
    void load();
    const stop = refreshOn(ctx, ['stream.up', 'stream.down'], () => void load(), 5000);
    return () => {
      stop();
      page.remove();
    };
  },
};
