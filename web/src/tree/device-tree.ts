import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import { loadTree, type TreeData, type TreeNode } from './tree-data';

registerMessages('tree', {
  en: {
    search: 'Search devices and channels',
    refresh: 'Reload',
    devices: 'GB28181 devices',
    proxies: 'Pull proxies',
    streams: 'Live streams',
    none: 'none',
    noStream: 'No live stream. Publish one: ffmpeg … -f flv "rtmp://HOST:1935/live/cam1?key=<auth.publishKey>"',
    catalog: 'Refresh catalog',
    catalogDone: '{device}: {count} catalog entries',
    online: 'online',
    offline: 'offline',
    loadFailed: 'could not load the tree: {message}',
  },
  'zh-CN': {
    search: '搜索设备和通道',
    refresh: '刷新',
    devices: 'GB28181 设备',
    proxies: '拉流代理',
    streams: '直播流',
    none: '无',
    noStream: '没有直播流。可以这样推一路：ffmpeg … -f flv "rtmp://HOST:1935/live/cam1?key=<auth.publishKey>"',
    catalog: '刷新目录',
    catalogDone: '{device}：目录 {count} 项',
    online: '在线',
    offline: '离线',
    loadFailed: '无法加载设备树：{message}',
  },
});

/** The MIME type a dragged tree node carries (its hub path), with its label in text/plain. */
export const DRAG_TYPE = 'application/x-gateway-path';

export interface DeviceTreeOptions {
  /** A channel, proxy or stream was clicked. */
  onPick(path: string, label: string): void;
  /** Tell the person something (catalog refreshed, a failure). */
  onNotice?(text: string, error: boolean): void;
}

/**
 * The tree of what can be watched: GB28181 devices with their catalogs (civil-code and
 * business-group nodes as the device sends them), pull proxies and other live streams. Reloads
 * on the live events; search keeps the ancestors of what matches.
 */
export class DeviceTree {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;
  private readonly search: HTMLInputElement;
  private data: TreeData = { devices: [], proxies: [], streams: [] };
  private reloadTimer: number | undefined;
  private readonly offs: (() => void)[] = [];
  private readonly collapsed = new Set<string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly options: DeviceTreeOptions,
  ) {
    this.search = el('input', { type: 'search', id: 'tree-search', placeholder: ctx.t('tree.search'), 'aria-label': ctx.t('tree.search') });
    this.search.addEventListener('input', () => this.render());
    const refresh = el('button', { type: 'button', id: 'tree-refresh' }, ctx.t('tree.refresh'));
    refresh.addEventListener('click', () => void this.reload());
    this.list = el('div', { id: 'tree', role: 'tree' });
    this.root = el('aside', { class: 'device-tree' }, el('div', { class: 'tree-tools' }, this.search, refresh), this.list);
    const soon = (): void => this.reloadSoon();
    for (const type of ['device.online', 'device.offline', 'channel.changed', 'stream.up', 'stream.down', 'proxy.state'] as const) this.offs.push(ctx.events.on(type, soon));
    this.offs.push(ctx.events.onOpen(soon));
    void this.reload();
  }

  destroy(): void {
    window.clearTimeout(this.reloadTimer);
    for (const off of this.offs.splice(0)) off();
    this.root.remove();
  }

  async reload(): Promise<void> {
    try {
      this.data = await loadTree(this.ctx);
      this.render();
    } catch (err) {
      this.options.onNotice?.(this.ctx.t('tree.loadFailed', { message: (err as Error).message }), true);
    }
  }

  private reloadSoon(): void {
    window.clearTimeout(this.reloadTimer);
    this.reloadTimer = window.setTimeout(() => void this.reload(), 300);
  }

  private render(): void {
    const q = this.search.value.trim().toLowerCase();
    const { t } = this.ctx;
    const section = (key: string, id: string, nodes: TreeNode[], empty: string): HTMLElement => {
      const shown = nodes.map((n) => this.renderNode(n, q)).filter((n): n is HTMLElement => n !== undefined);
      return el('section', { class: 'tree-section', id }, el('h3', {}, t(key)), shown.length > 0 ? el('ul', { role: 'group' }, ...shown) : el('p', { class: 'empty' }, empty));
    };
    this.list.replaceChildren(
      section('tree.devices', 'tree-devices', this.data.devices, t('tree.none')),
      section('tree.proxies', 'tree-proxies', this.data.proxies, t('tree.none')),
      section('tree.streams', 'tree-streams', this.data.streams, t('tree.noStream')),
    );
  }

  /** The node's <li>, or undefined when neither it nor anything under it matches the search. */
  private renderNode(node: TreeNode, q: string): HTMLElement | undefined {
    const matches = q === '' || node.label.toLowerCase().includes(q) || node.id.toLowerCase().includes(q) || (node.path ?? '').toLowerCase().includes(q);
    const children = node.children.map((c) => this.renderNode(c, matches ? '' : q)).filter((n): n is HTMLElement => n !== undefined);
    if (!matches && children.length === 0) return undefined;
    const state = node.online ? 'online' : 'offline';
    const dot = el('span', { class: `dot ${state}`, title: this.ctx.t(`tree.${state}`) });
    const label = node.path
      ? el(
          'button',
          { type: 'button', class: `node-play ${state}`, draggable: 'true', dataset: { path: node.path, kind: node.kind }, title: node.path },
          dot,
          el('span', { class: 'name' }, node.label),
          node.detail ? el('small', {}, node.detail) : undefined,
        )
      : el(
          'span',
          { class: `node-label ${state}`, dataset: { id: node.id, kind: node.kind } },
          dot,
          el('span', { class: 'name' }, node.label),
          node.detail ? el('small', {}, node.detail) : undefined,
        );
    if (node.path) {
      const path = node.path;
      label.addEventListener('click', () => this.options.onPick(path, node.label));
      label.addEventListener('dragstart', (event) => {
        event.dataTransfer?.setData(DRAG_TYPE, path);
        event.dataTransfer?.setData('text/plain', node.label);
        if (event.dataTransfer) event.dataTransfer.effectAllowed = 'copy';
      });
    }
    const row = el('div', { class: 'node' });
    if (node.children.length > 0) {
      const open = q !== '' || !this.collapsed.has(node.id);
      const toggle = el('button', { type: 'button', class: 'toggle', 'aria-expanded': String(open) }, open ? '▾' : '▸');
      toggle.addEventListener('click', () => {
        if (this.collapsed.has(node.id)) this.collapsed.delete(node.id);
        else this.collapsed.add(node.id);
        this.render();
      });
      row.append(toggle);
    } else row.append(el('span', { class: 'toggle' }));
    row.append(label);
    if (node.kind === 'device' && node.deviceId) row.append(this.catalogButton(node));
    const li = el('li', { role: 'treeitem' }, row);
    if (children.length > 0 && (q !== '' || !this.collapsed.has(node.id))) li.append(el('ul', { role: 'group' }, ...children));
    return li;
  }

  private catalogButton(node: TreeNode): HTMLElement {
    const button = el('button', { type: 'button', class: 'catalog', title: this.ctx.t('tree.catalog'), dataset: { device: node.deviceId ?? '' } }, '⟳');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const r = await this.ctx.api<{ channelCount: number }>('POST', `/api/devices/${encodeURIComponent(node.deviceId ?? '')}/catalog`, {});
        this.options.onNotice?.(this.ctx.t('tree.catalogDone', { device: node.label, count: r.channelCount }), false);
        await this.reload();
      } catch (err) {
        this.options.onNotice?.((err as Error).message, true);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }
}
