import type { ProxyDto, ProxyInput, PushDto, PushInput } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import type { Page } from './index';
import { button, deleteButton, formatTime, input, labelled, Notice, refreshOn, select, table } from './manage-ui';

registerMessages('relays', {
  en: {
    title: 'Proxies and pushes',
    proxies: 'Pull proxies (RTSP, RTMP, HTTP-FLV)',
    pushes: 'Pushes (RTMP/RTMPS to CDNs)',
    path: 'Stream',
    url: 'Source URL',
    target: 'Target URL',
    urlKeep: 'masked: leave empty to keep',
    transport: 'Transport',
    onDemand: 'On demand',
    keepSource: 'Keep the source pulled',
    hevc: 'H.265 as',
    state: 'State',
    lastError: 'Last error',
    origin: 'From',
    addProxy: 'Add a proxy',
    addPush: 'Add a push',
    noProxies: 'No proxy.',
    noPushes: 'No push rule.',
    load: 'Loading proxies and pushes',
    saving: 'Saving {what}',
    adding: 'Adding {what}',
    deleting: 'Deleting {what}',
    idle: 'idle',
    connecting: 'connecting',
    playing: 'playing',
    retrying: 'retrying',
    stopped: 'stopped',
    waiting: 'waiting for the stream',
    pushing: 'pushing',
  },
  'zh-CN': {
    title: '拉流代理与推流',
    proxies: '拉流代理（RTSP、RTMP、HTTP-FLV）',
    pushes: '推流（RTMP/RTMPS 到 CDN）',
    path: '流',
    url: '源地址',
    target: '目标地址',
    urlKeep: '已隐藏：留空则不修改',
    transport: '传输方式',
    onDemand: '按需拉流',
    keepSource: '保持拉流',
    hevc: 'H.265 方式',
    state: '状态',
    lastError: '最近错误',
    origin: '来源',
    addProxy: '添加拉流代理',
    addPush: '添加推流',
    noProxies: '没有拉流代理。',
    noPushes: '没有推流规则。',
    load: '读取拉流代理与推流',
    saving: '保存 {what}',
    adding: '添加 {what}',
    deleting: '删除 {what}',
    idle: '空闲',
    connecting: '连接中',
    playing: '拉流中',
    retrying: '重试中',
    stopped: '已停止',
    waiting: '等待流',
    pushing: '推流中',
  },
});

const TRANSPORTS = ['auto', 'tcp', 'udp'];
const HEVC = ['enhanced', 'legacy', 'drop'];

function errorText(ctx: AppContext, error: { kind: string; message: string; at: number } | undefined): string {
  return error ? `${error.kind}: ${error.message} (${formatTime(error.at, ctx.lang)})` : '—';
}

function stateCell(ctx: AppContext, state: string): HTMLElement {
  return el('span', { class: `state ${state}` }, ctx.t(`relays.${state}`));
}

type Api = { ctx: AppContext; notice: Notice; reload: () => void };

function proxyRow({ ctx, notice, reload }: Api, proxy: ProxyDto): (Node | string)[] {
  const { t } = ctx;
  const state = [stateCell(ctx, proxy.status.state), proxy.status.tracks.length ? ` ${proxy.status.tracks.join(', ')}` : ''];
  if (proxy.origin !== 'api')
    return [
      el('code', {}, proxy.path),
      proxy.url,
      proxy.transport,
      proxy.onDemand ? t('manage.yes') : t('manage.no'),
      el('span', {}, ...state),
      errorText(ctx, proxy.status.lastError),
      t('manage.readOnly'),
    ];
  const url = input({ placeholder: `${proxy.url} (${t('relays.urlKeep')})`, 'aria-label': t('relays.url'), size: 40 });
  const transport = select(
    TRANSPORTS.map((v) => ({ value: v, label: v })),
    proxy.transport,
    { 'aria-label': t('relays.transport') },
  );
  const onDemand = input({ type: 'checkbox', 'aria-label': t('relays.onDemand'), ...(proxy.onDemand ? { checked: true } : {}) });
  const save = button(t('manage.save'), async () => {
    const patch: Partial<ProxyInput> = { transport: transport.value as ProxyInput['transport'], onDemand: onDemand.checked, ...(url.value ? { url: url.value } : {}) };
    if (await notice.run(t('relays.saving', { what: proxy.path }), () => ctx.api('PATCH', `/api/proxies/${proxy.id}`, patch))) notice.ok(t('manage.saved'));
    reload();
  });
  const remove = deleteButton(ctx, async () => {
    if (await notice.run(t('relays.deleting', { what: proxy.path }), () => ctx.api('DELETE', `/api/proxies/${proxy.id}`))) notice.ok(t('manage.deleted', { what: proxy.path }));
    reload();
  });
  return [el('code', {}, proxy.path), url, transport, onDemand, el('span', {}, ...state), errorText(ctx, proxy.status.lastError), el('span', { class: 'actions' }, save, remove)];
}

function pushRow({ ctx, notice, reload }: Api, push: PushDto): (Node | string)[] {
  const { t } = ctx;
  const states = push.pushes.length ? push.pushes.map((p) => el('div', {}, stateCell(ctx, p.state), ` ${p.path} · ${p.bitrateKbps} kb/s`)) : [stateCell(ctx, 'waiting')];
  const lastError = push.pushes.map((p) => p.lastError).find(Boolean);
  if (push.origin !== 'api')
    return [
      el('code', {}, push.path),
      push.url,
      push.keepSource ? t('manage.yes') : t('manage.no'),
      push.hevc,
      el('div', {}, ...states),
      errorText(ctx, lastError),
      t('manage.readOnly'),
    ];
  const url = input({ placeholder: `${push.url} (${t('relays.urlKeep')})`, 'aria-label': t('relays.target'), size: 40 });
  const keepSource = input({ type: 'checkbox', 'aria-label': t('relays.keepSource'), ...(push.keepSource ? { checked: true } : {}) });
  const hevc = select(
    HEVC.map((v) => ({ value: v, label: v })),
    push.hevc,
    { 'aria-label': t('relays.hevc') },
  );
  const save = button(t('manage.save'), async () => {
    const patch: Partial<PushInput> = { keepSource: keepSource.checked, hevc: hevc.value as PushInput['hevc'], ...(url.value ? { url: url.value } : {}) };
    if (await notice.run(t('relays.saving', { what: push.path }), () => ctx.api('PATCH', `/api/pushes/${push.id}`, patch))) notice.ok(t('manage.saved'));
    reload();
  });
  const remove = deleteButton(ctx, async () => {
    if (await notice.run(t('relays.deleting', { what: push.path }), () => ctx.api('DELETE', `/api/pushes/${push.id}`))) notice.ok(t('manage.deleted', { what: push.path }));
    reload();
  });
  return [el('code', {}, push.path), url, keepSource, hevc, el('div', {}, ...states), errorText(ctx, lastError), el('span', { class: 'actions' }, save, remove)];
}

function proxyForm({ ctx, notice, reload }: Api): HTMLFormElement {
  const { t } = ctx;
  const path = input({ required: true, placeholder: 'proxy/cam1', pattern: '[A-Za-z0-9_.\\-]{1,64}/[A-Za-z0-9_.\\-]{1,64}' });
  const url = input({ required: true, placeholder: 'rtsp://user:pass@192.168.1.64/Streaming/Channels/101', size: 40 });
  const transport = select(
    TRANSPORTS.map((v) => ({ value: v, label: v })),
    'auto',
  );
  const onDemand = input({ type: 'checkbox', checked: true });
  const form = el(
    'form',
    { class: 'add-form', id: 'add-proxy' },
    el('h3', {}, t('relays.addProxy')),
    labelled(t('relays.path'), path),
    labelled(t('relays.url'), url),
    labelled(t('relays.transport'), transport),
    labelled(t('relays.onDemand'), onDemand),
    el('button', { type: 'submit' }, t('manage.add')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body: ProxyInput = { path: path.value, url: url.value, transport: transport.value as ProxyInput['transport'], onDemand: onDemand.checked };
    void notice
      .run(t('relays.adding', { what: path.value }), () => ctx.api('POST', '/api/proxies', body))
      .then((ok) => {
        if (ok) form.reset();
        reload();
      });
  });
  return form;
}

function pushForm({ ctx, notice, reload }: Api): HTMLFormElement {
  const { t } = ctx;
  const path = input({ required: true, placeholder: 'live/* or live/cam1' });
  const url = input({ required: true, placeholder: 'rtmp://cdn.example.com/live/{stream}?key=…', size: 40 });
  const keepSource = input({ type: 'checkbox' });
  const hevc = select(
    HEVC.map((v) => ({ value: v, label: v })),
    'enhanced',
  );
  const form = el(
    'form',
    { class: 'add-form', id: 'add-push' },
    el('h3', {}, t('relays.addPush')),
    labelled(t('relays.path'), path),
    labelled(t('relays.target'), url),
    labelled(t('relays.keepSource'), keepSource),
    labelled(t('relays.hevc'), hevc),
    el('button', { type: 'submit' }, t('manage.add')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body: PushInput = { path: path.value, url: url.value, keepSource: keepSource.checked, hevc: hevc.value as PushInput['hevc'] };
    void notice
      .run(t('relays.adding', { what: path.value }), () => ctx.api('POST', '/api/pushes', body))
      .then((ok) => {
        if (ok) form.reset();
        reload();
      });
  });
  return form;
}

/** Pull proxies and pushes: add, edit, delete, with their state and last error. */
export const manageRelaysPage: Page = {
  id: 'manage-relays',
  path: '/relays',
  titleKey: 'relays.title',
  mount(root: HTMLElement, ctx: AppContext): () => void {
    const { t } = ctx;
    const notice = new Notice(ctx);
    const proxies = el('div', { id: 'proxies' });
    const pushes = el('div', { id: 'pushes' });
    const load = async (): Promise<void> => {
      await notice.run(t('relays.load'), async () => {
        const [p, q] = await Promise.all([ctx.api<{ proxies: ProxyDto[] }>('GET', '/api/proxies'), ctx.api<{ pushes: PushDto[] }>('GET', '/api/pushes')]);
        const api = { ctx, notice, reload: () => void load() };
        proxies.replaceChildren(
          p.proxies.length
            ? table(
                ['path', 'url', 'transport', 'onDemand', 'state', 'lastError'].map((k) => t(`relays.${k}`)).concat(''),
                p.proxies.map((x) => proxyRow(api, x)),
              )
            : el('p', { class: 'empty' }, t('relays.noProxies')),
        );
        pushes.replaceChildren(
          q.pushes.length
            ? table(
                ['path', 'target', 'keepSource', 'hevc', 'state', 'lastError'].map((k) => t(`relays.${k}`)).concat(''),
                q.pushes.map((x) => pushRow(api, x)),
              )
            : el('p', { class: 'empty' }, t('relays.noPushes')),
        );
      });
    };
    const api = { ctx, notice, reload: () => void load() };
    const page = el(
      'section',
      { class: 'manage-page' },
      el('h2', {}, t('relays.title')),
      notice.root,
      el('h3', {}, t('relays.proxies')),
      proxies,
      proxyForm(api),
      el('h3', {}, t('relays.pushes')),
      pushes,
      pushForm(api),
    );
    root.append(page);
    void load();
    const stop = refreshOn(ctx, ['proxy.state', 'push.state'], () => void load(), 60_000);
    return () => {
      stop();
      page.remove();
    };
  },
};
