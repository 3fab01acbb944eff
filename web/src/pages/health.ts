import type { HealthDto } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import type { Page } from './index';
import { button, formatBytes, formatDuration, Notice, table } from './manage-ui';

registerMessages('health', {
  en: {
    title: 'Health',
    status: 'Status',
    ok: 'ok',
    degraded: 'degraded',
    version: 'Version',
    uptime: 'Up for',
    streams: 'Live streams',
    memory: 'Memory (RSS / heap used)',
    connections: 'HTTP connections',
    ports: 'Bound ports',
    listener: 'Listener',
    port: 'Port',
    address: 'Address',
    warnings: 'Warnings',
    load: 'Loading health',
  },
  'zh-CN': {
    title: '运行状态',
    status: '状态',
    ok: '正常',
    degraded: '降级',
    version: '版本',
    uptime: '已运行',
    streams: '直播流数',
    memory: '内存（RSS / 已用堆）',
    connections: 'HTTP 连接',
    ports: '已绑定端口',
    listener: '监听',
    port: '端口',
    address: '地址',
    warnings: '警告',
    load: '读取运行状态',
  },
});

/** Where a client reaches each listener, for the ports table. */
function addressOf(name: string, port: number): string {
  const host = location.hostname;
  if (name === 'rtmp') return `rtmp://${host}:${port}/{app}/{stream}`;
  if (name === 'rtsp') return `rtsp://${host}:${port}/{app}/{stream}`;
  if (name === 'http') return `http://${host}:${port}/`;
  if (name === 'sip') return `sip:${host}:${port} (UDP, TCP)`;
  return `${host}:${port}`;
}

/** Server health and the ports it bound (port 0 in the config picks one). */
export const healthPage: Page = {
  id: 'health',
  path: '/health',
  titleKey: 'health.title',
  mount(root: HTMLElement, ctx: AppContext): () => void {
    const { t } = ctx;
    const notice = new Notice(ctx);
    const body = el('div', { class: 'health' });
    const load = async (): Promise<void> => {
      await notice.run(t('health.load'), async () => {
        const h = await ctx.api<HealthDto>('GET', '/api/health');
        const facts: [string, string][] = [
          [t('health.status'), t(`health.${h.status}`)],
          [t('health.version'), h.version],
          [t('health.uptime'), formatDuration(h.uptimeMs)],
          [t('health.streams'), String(h.streams)],
          [t('health.memory'), `${formatBytes(h.memory.rss)} / ${formatBytes(h.memory.heapUsed)}`],
          ...(h.http ? [[t('health.connections'), `${h.http.connections} / ${h.http.maxConnections}`] as [string, string]] : []),
        ];
        const ports = Object.entries(h.ports).map(([name, port]) => [name, String(port), addressOf(name, port)]);
        body.replaceChildren(
          el('dl', { class: 'facts', dataset: { status: h.status } }, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
          el('h3', {}, t('health.ports')),
          table([t('health.listener'), t('health.port'), t('health.address')], ports, 'grid-table ports'),
          ...(h.warnings.length ? [el('h3', {}, t('health.warnings')), el('ul', { class: 'warnings' }, ...h.warnings.map((w) => el('li', {}, w)))] : []),
        );
      });
    };
    const page = el('section', { class: 'manage-page' }, el('h2', {}, t('health.title'), ' ', button(t('manage.refresh'), load)), body, notice.root);
    root.append(page);
    void load();
    const timer = window.setInterval(() => void load(), 10_000);
    return () => {
      window.clearInterval(timer);
      page.remove();
    };
  },
};
