import type { WallDto, WallLayout } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';

registerMessages('walls', {
  en: {
    saved: 'Saved walls',
    choose: '— saved walls —',
    save: 'Save as…',
    name: 'Name of this wall',
    update: 'Save',
    remove: 'Delete',
    tour: 'Tour',
    every: 'every {seconds} s',
    savedAs: 'saved as “{name}”',
  },
  'zh-CN': {
    saved: '已保存的监控墙',
    choose: '— 已保存的监控墙 —',
    save: '另存为…',
    name: '监控墙名称',
    update: '保存',
    remove: '删除',
    tour: '轮巡',
    every: '每 {seconds} 秒',
    savedAs: '已保存为“{name}”',
  },
});

export interface SavedWallsOptions {
  current(): { layout: WallLayout; tiles: (string | null)[] };
  show(wall: WallDto): void;
}

/** Saved walls (`/api/walls`): pick, save as, save, delete, and the tour that rotates through them. */
export class SavedWalls {
  readonly root: HTMLElement;
  private walls: WallDto[] = [];
  private readonly select = el('select', { id: 'saved-walls' });
  private readonly tourSeconds = el('select', { id: 'tour-seconds' });
  private readonly tourBox = el('input', { type: 'checkbox', id: 'tour' });
  private readonly status = el('span', { class: 'saved-status', role: 'status' });
  private tourTimer: number | undefined;
  private tourIndex = 0;

  constructor(
    private readonly ctx: AppContext,
    private readonly options: SavedWallsOptions,
  ) {
    const { t } = ctx;
    this.select.setAttribute('aria-label', t('walls.saved'));
    this.select.addEventListener('change', () => {
      const wall = this.walls.find((w) => String(w.id) === this.select.value);
      if (wall) options.show(wall);
    });
    for (const seconds of [10, 30, 60, 300]) this.tourSeconds.append(el('option', { value: String(seconds) }, t('walls.every', { seconds })));
    this.tourBox.addEventListener('change', () => this.tour());
    this.tourSeconds.addEventListener('change', () => this.tour());
    const saveAs = el('button', { type: 'button', id: 'wall-save-as' }, t('walls.save'));
    saveAs.addEventListener('click', () => void this.saveAs());
    const update = el('button', { type: 'button', id: 'wall-save' }, t('walls.update'));
    update.addEventListener('click', () => void this.update());
    const remove = el('button', { type: 'button', id: 'wall-delete' }, t('walls.remove'));
    remove.addEventListener('click', () => void this.remove());
    this.root = el('span', { class: 'saved-walls' }, this.select, update, saveAs, remove, el('label', {}, this.tourBox, t('walls.tour')), this.tourSeconds, this.status);
    void this.reload();
  }

  destroy(): void {
    window.clearInterval(this.tourTimer);
  }

  private async reload(selectId?: number): Promise<void> {
    try {
      this.walls = (await this.ctx.api<{ walls: WallDto[] }>('GET', '/api/walls')).walls;
    } catch (err) {
      this.say((err as Error).message, true);
      return;
    }
    this.select.replaceChildren(
      el('option', { value: '' }, this.ctx.t('walls.choose')),
      ...this.walls.map((w) => el('option', { value: String(w.id) }, `${w.name} (${w.layout})`)),
    );
    if (selectId !== undefined) this.select.value = String(selectId);
  }

  private async saveAs(): Promise<void> {
    const name = prompt(this.ctx.t('walls.name'))?.trim();
    if (!name) return;
    await this.run(async () => {
      const wall = await this.ctx.api<WallDto>('POST', '/api/walls', { name, ...this.options.current() });
      await this.reload(wall.id);
      this.say(this.ctx.t('walls.savedAs', { name: wall.name }), false);
    });
  }

  private async update(): Promise<void> {
    const id = Number(this.select.value);
    if (!id) return this.saveAs();
    await this.run(async () => {
      const wall = await this.ctx.api<WallDto>('PUT', `/api/walls/${id}`, this.options.current());
      await this.reload(wall.id);
      this.say(this.ctx.t('walls.savedAs', { name: wall.name }), false);
    });
  }

  private async remove(): Promise<void> {
    const id = Number(this.select.value);
    if (!id) return;
    await this.run(async () => {
      await this.ctx.api('DELETE', `/api/walls/${id}`);
      await this.reload();
    });
  }

  private async run(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (err) {
      this.say((err as Error).message, true);
    }
  }

  /** The tour: every N seconds the next saved wall. */
  private tour(): void {
    window.clearInterval(this.tourTimer);
    this.tourTimer = undefined;
    if (!this.tourBox.checked) return;
    const step = (): void => {
      if (this.walls.length === 0) return;
      const wall = this.walls[this.tourIndex++ % this.walls.length];
      if (!wall) return;
      this.select.value = String(wall.id);
      this.options.show(wall);
    };
    step();
    this.tourTimer = window.setInterval(step, Number(this.tourSeconds.value) * 1000);
  }

  private say(text: string, error: boolean): void {
    this.status.textContent = text;
    this.status.className = error ? 'saved-status error' : 'saved-status';
  }
}
