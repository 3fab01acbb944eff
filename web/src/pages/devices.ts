import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import { g711Addon } from '../player/g711-addon';
import { TilePlayer } from '../player/tile-player';
import { PlayPrep } from '../player/play-prep';
import { DeviceTree } from '../tree/device-tree';
import type { Page } from './index';

registerMessages('devices', {
  en: { title: 'Devices', pick: 'Click a channel, proxy or stream to preview it.', addresses: 'Addresses' },
  'zh-CN': { title: '设备', pick: '点击通道、拉流代理或直播流即可预览。', addresses: '播放地址' },
});

/** The device tree with a preview: click a node to play it. */
export const devicesPage: Page = {
  id: 'devices',
  path: '/devices',
  titleKey: 'devices.title',
  mount(root: HTMLElement, ctx: AppContext): () => void {
    const prep = new PlayPrep(ctx);
    const title = el('h2', { id: 'player-title' }, ctx.t('devices.pick'));
    const stage = el('div', { class: 'preview-stage' });
    const info = el('p', { id: 'player-info' });
    const notice = el('p', { class: 'notice', role: 'status' });
    let player: TilePlayer | undefined;
    const tree = new DeviceTree(ctx, {
      onPick: (path, label) => {
        player?.destroy();
        title.textContent = label === path ? path : `${label} (${path})`;
        player = new TilePlayer(stage, { path, ctx, prep, label });
        player.attach(g711Addon(ctx, prep));
        const base = `${location.host}/${path}`;
        info.replaceChildren(`${ctx.t('devices.addresses')}: ws://${base}.flv · http://${base}.flv · http://${base}/index.m3u8 · http://${base}.ts`);
      },
      onNotice: (text, error) => {
        notice.textContent = text;
        notice.className = error ? 'notice error' : 'notice';
      },
    });
    const page = el('div', { class: 'devices-page' }, tree.root, el('section', { class: 'preview', id: 'player' }, title, stage, info, notice));
    root.append(page);
    return () => {
      player?.destroy();
      tree.destroy();
      page.remove();
    };
  },
};
