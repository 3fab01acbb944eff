import type { WallLayout } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import { PlayPrep } from '../player/play-prep';
import { g711Addon } from '../player/g711-addon';
import { TilePlayer } from '../player/tile-player';
import { DRAG_TYPE, DeviceTree } from '../tree/device-tree';
import { LAYOUTS, gridSize, parseWallQuery, tileCount, wallQuery } from './wall-layout';
import { SavedWalls } from './wall-saved';
import type { Page } from './index';

registerMessages('wall', {
  en: {
    title: 'Wall',
    layout: 'Layout',
    fullscreen: 'Fullscreen',
    empty: 'Drag a channel here, or click this tile and then a channel',
    clear: 'Clear tile',
    tree: 'Device tree',
  },
  'zh-CN': {
    title: '监控墙',
    layout: '布局',
    fullscreen: '全屏',
    empty: '把通道拖到这里，或先点击此窗格再点击通道',
    clear: '清空窗格',
    tree: '设备树',
  },
});

interface Tile {
  readonly element: HTMLElement;
  path: string | null;
  label: string | undefined;
  player: TilePlayer | undefined;
}

/**
 * The monitoring wall: 1, 2x2, 3x3, 4x4 or 1+5 tiles, each a WS-FLV TilePlayer; drag from the
 * tree or click a tile then a channel; double-click maximises; fullscreen; saved walls and a
 * tour. The address bar always holds the wall (`/wall?layout=3x3&paths=...`), so a reload, a
 * language switch or a bookmark brings it back.
 */
class Wall {
  private layout: WallLayout = '2x2';
  private readonly tiles: Tile[] = [];
  private selected = 0;
  private maximised: number | undefined;
  private readonly grid = el('div', { class: 'wall-grid', id: 'wall' });
  private readonly layoutButtons = new Map<WallLayout, HTMLButtonElement>();
  private readonly prep: PlayPrep;
  private readonly tree: DeviceTree;
  private readonly saved: SavedWalls;
  readonly root: HTMLElement;

  constructor(private readonly ctx: AppContext) {
    this.prep = new PlayPrep(ctx);
    // The tiles first, and their one status request sent now: it must not queue behind the tree's
    // and the saved walls' calls (the API client keeps four in flight), since each tile's WebSocket waits for it.
    for (let i = 0; i < 16; i++) this.tiles.push(this.makeTile(i));
    const asked = parseWallQuery(location.search);
    this.load(asked?.layout ?? '2x2', asked?.tiles ?? []);
    void this.prep.flush();
    const notice = el('span', { class: 'notice', role: 'status' });
    this.tree = new DeviceTree(ctx, {
      onPick: (path, label) => this.pick(path, label),
      onNotice: (text, error) => {
        notice.textContent = text;
        notice.className = error ? 'notice error' : 'notice';
      },
    });
    this.saved = new SavedWalls(ctx, {
      current: () => ({ layout: this.layout, tiles: this.tiles.slice(0, tileCount(this.layout)).map((t) => t.path) }),
      show: (wall) => {
        this.load(wall.layout, wall.tiles);
        this.afterChange();
      },
    });
    const toolbar = el('div', { class: 'wall-tools' }, el('span', {}, ctx.t('wall.layout')), ...LAYOUTS.map((l) => this.layoutButton(l)));
    const fullscreen = el('button', { type: 'button', id: 'wall-fullscreen' }, ctx.t('wall.fullscreen'));
    fullscreen.addEventListener('click', () => void this.grid.requestFullscreen?.().catch(() => undefined));
    toolbar.append(fullscreen, this.saved.root, notice);
    this.root = el('div', { class: 'wall-page' }, this.tree.root, el('section', { class: 'wall-main' }, toolbar, this.grid));
    this.draw();
  }

  destroy(): void {
    this.saved.destroy();
    this.tree.destroy();
    for (const tile of this.tiles) tile.player?.destroy();
    this.root.remove();
  }

  /** Shows a wall: the layout, then each tile's path (tiles that keep their path keep playing). */
  load(layout: WallLayout, paths: (string | null)[]): void {
    this.layout = layout;
    this.maximised = undefined;
    const n = tileCount(layout);
    for (let i = 0; i < 16; i++) this.assign(i, i < n ? (paths[i] ?? null) : null, undefined);
    this.selected = Math.min(this.selected, n - 1);
    this.draw();
  }

  private makeTile(index: number): Tile {
    const element = el('div', { class: 'tile', dataset: { index: String(index) }, tabindex: '0' });
    const tile: Tile = { element, path: null, label: undefined, player: undefined };
    element.addEventListener('click', () => {
      this.selected = index;
      this.drawSelection();
    });
    element.addEventListener('dblclick', () => {
      this.maximised = this.maximised === index ? undefined : index;
      this.draw();
    });
    element.addEventListener('dragover', (event) => {
      if (!event.dataTransfer?.types.includes(DRAG_TYPE)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
      element.classList.add('drop');
    });
    element.addEventListener('dragleave', () => element.classList.remove('drop'));
    element.addEventListener('drop', (event) => {
      element.classList.remove('drop');
      const path = event.dataTransfer?.getData(DRAG_TYPE);
      if (!path) return;
      event.preventDefault();
      const label = event.dataTransfer?.getData('text/plain') || undefined;
      this.selected = index;
      this.assign(index, path, label);
      this.afterChange();
    });
    return tile;
  }

  private layoutButton(layout: WallLayout): HTMLButtonElement {
    const button = el('button', { type: 'button', class: 'layout', dataset: { layout } }, layout);
    button.addEventListener('click', () => {
      this.load(
        layout,
        this.tiles.map((t) => t.path),
      );
      this.afterChange();
    });
    this.layoutButtons.set(layout, button);
    return button;
  }

  /** The tree's click: into the selected tile, then the selection moves to the next tile. */
  private pick(path: string, label: string): void {
    const n = tileCount(this.layout);
    this.assign(this.selected, path, label);
    this.selected = (this.selected + 1) % n;
    this.afterChange();
  }

  private assign(index: number, path: string | null, label: string | undefined): void {
    const tile = this.tiles[index];
    if (!tile) return;
    if (tile.path === path && (tile.player || (!path && tile.element.hasChildNodes()))) {
      if (label) tile.label = label;
      return;
    }
    tile.player?.destroy();
    tile.player = undefined;
    tile.path = path;
    tile.label = label;
    tile.element.replaceChildren();
    if (!path) {
      tile.element.append(el('p', { class: 'tile-empty' }, this.ctx.t('wall.empty')));
      return;
    }
    const clear = el('button', { type: 'button', class: 'tile-clear', title: this.ctx.t('wall.clear') }, '×');
    clear.addEventListener('click', (event) => {
      event.stopPropagation();
      this.assign(index, null, undefined);
      this.afterChange();
    });
    tile.element.append(clear);
    tile.player = new TilePlayer(tile.element, { path, ctx: this.ctx, prep: this.prep, ...(label ? { label } : {}) });
    tile.player.attach(g711Addon(this.ctx, this.prep));
  }

  private afterChange(): void {
    this.draw();
    history.replaceState(
      null,
      '',
      `/wall${wallQuery(
        this.layout,
        this.tiles.slice(0, tileCount(this.layout)).map((t) => t.path),
      )}`,
    );
  }

  private draw(): void {
    const n = tileCount(this.layout);
    const size = this.maximised === undefined ? gridSize(this.layout) : 1;
    this.grid.style.gridTemplateColumns = `repeat(${size}, minmax(0, 1fr))`;
    this.grid.style.gridTemplateRows = `repeat(${size}, minmax(0, 1fr))`;
    this.grid.dataset.layout = this.layout;
    // Every tile stays in the document (a <video> taken out of it pauses): hidden ones are display: none.
    if (this.grid.childElementCount === 0) this.grid.append(...this.tiles.map((t) => t.element));
    for (const [i, tile] of this.tiles.entries()) {
      tile.element.hidden = i >= n || (this.maximised !== undefined && i !== this.maximised);
      tile.element.classList.toggle('big', this.layout === '1+5' && i === 0 && this.maximised === undefined);
      tile.element.classList.toggle('maximised', this.maximised === i);
    }
    for (const [layout, button] of this.layoutButtons) button.setAttribute('aria-pressed', String(layout === this.layout));
    this.drawSelection();
  }

  private drawSelection(): void {
    for (const [i, tile] of this.tiles.entries()) tile.element.classList.toggle('selected', i === this.selected);
  }
}

export const wallPage: Page = {
  id: 'wall',
  path: '/wall',
  titleKey: 'wall.title',
  mount(root: HTMLElement, ctx: AppContext): () => void {
    const wall = new Wall(ctx);
    root.append(wall.root);
    return () => wall.destroy();
  },
};
