import type { PlanBody, PlanDto } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import type { Page } from './index';
import { button, deleteButton, input, labelled, Notice, table } from './manage-ui';
import { emptyGrid, gridOfHours, paint, weeklyOfGrid, WEEKDAYS, type WeekGrid } from './weekly-grid';

registerMessages('recordPlans', {
  en: {
    title: 'Record plans',
    id: 'Plan',
    streams: 'Streams (paths, patterns like live/*, or GB28181 ids; comma separated)',
    streamsShort: 'Streams',
    formats: 'Formats',
    when: 'When',
    enabled: 'Enabled',
    active: 'Recording now',
    newPlan: 'New plan',
    editing: 'Editing {id}',
    creating: 'New weekly plan',
    gridHelp: 'Click or drag over the hours to record; drag from a marked hour to clear.',
    clear: 'Clear',
    all: 'Every hour',
    workHours: 'Mon-Fri 08-18',
    schedule: 'Schedule',
    emptyGrid: 'Mark at least one hour.',
    notWeekly: 'This plan is {when}: saving the grid makes it weekly.',
    load: 'Loading plans',
    saving: 'Saving {id}',
    deleting: 'Deleting {id}',
    noPlans: 'No record plan.',
    mon: 'Mon',
    tue: 'Tue',
    wed: 'Wed',
    thu: 'Thu',
    fri: 'Fri',
    sat: 'Sat',
    sun: 'Sun',
    always: 'always',
    weekly: 'weekly',
    cron: 'cron',
  },
  'zh-CN': {
    title: '录像计划',
    id: '计划',
    streams: '流（路径、live/* 这样的通配，或 GB28181 编号；逗号分隔）',
    streamsShort: '流',
    formats: '格式',
    when: '时间',
    enabled: '启用',
    active: '正在录像',
    newPlan: '新建计划',
    editing: '编辑 {id}',
    creating: '新建每周计划',
    gridHelp: '点击或拖动选择要录像的小时；从已选的小时开始拖动则清除。',
    clear: '清空',
    all: '全天',
    workHours: '周一至周五 08-18',
    schedule: '时间表',
    emptyGrid: '请至少选择一个小时。',
    notWeekly: '此计划为 {when}：保存网格后将改为每周计划。',
    load: '读取录像计划',
    saving: '保存 {id}',
    deleting: '删除 {id}',
    noPlans: '没有录像计划。',
    mon: '周一',
    tue: '周二',
    wed: '周三',
    thu: '周四',
    fri: '周五',
    sat: '周六',
    sun: '周日',
    always: '始终',
    weekly: '每周',
    cron: 'cron',
  },
});

const FORMATS = ['flv', 'ts', 'hls'] as const;

/** The 7 x 24 grid: pointer down on a cell starts painting (on, or off when it was on), moving paints the rectangle. */
class WeekGridEditor {
  readonly root: HTMLTableElement;
  private grid: WeekGrid = emptyGrid();
  private drag: { from: { day: number; hour: number }; value: boolean; before: WeekGrid } | undefined;
  private readonly cells: HTMLTableCellElement[][] = [];

  constructor(
    ctx: AppContext,
    private readonly onChange: () => void,
  ) {
    const head = el('tr', {}, el('th', {}), ...Array.from({ length: 24 }, (_, h) => el('th', { scope: 'col' }, String(h).padStart(2, '0'))));
    const rows = WEEKDAYS.map((day, d) => {
      const cells = Array.from({ length: 24 }, (_, h) => el('td', { class: 'hour', dataset: { day: String(d), hour: String(h) } }));
      this.cells.push(cells);
      return el('tr', {}, el('th', { scope: 'row' }, ctx.t(`recordPlans.${day}`)), ...cells);
    });
    this.root = el('table', { class: 'week-grid', id: 'week-grid' }, el('thead', {}, head), el('tbody', {}, ...rows));
    this.root.addEventListener('pointerdown', (event) => this.start(event));
    this.root.addEventListener('pointerover', (event) => this.move(event));
    window.addEventListener('pointerup', this.end);
  }

  get value(): WeekGrid {
    return this.grid;
  }

  set value(grid: WeekGrid) {
    this.grid = grid;
    this.draw();
  }

  destroy(): void {
    window.removeEventListener('pointerup', this.end);
  }

  private cellOf(event: Event): { day: number; hour: number } | undefined {
    const target = event.target as HTMLElement | null;
    const cell = target?.closest?.('td.hour') as HTMLElement | null;
    if (!cell) return undefined;
    return { day: Number(cell.dataset.day), hour: Number(cell.dataset.hour) };
  }

  private start(event: PointerEvent): void {
    const at = this.cellOf(event);
    if (!at) return;
    event.preventDefault();
    const value = !this.grid[at.day]?.[at.hour];
    this.drag = { from: at, value, before: this.grid };
    this.grid = paint(this.grid, at, at, value);
    this.draw();
  }

  private move(event: PointerEvent): void {
    const at = this.cellOf(event);
    if (!this.drag || !at) return;
    this.grid = paint(this.drag.before, this.drag.from, at, this.drag.value);
    this.draw();
  }

  private readonly end = (): void => {
    if (!this.drag) return;
    this.drag = undefined;
    this.onChange();
  };

  private draw(): void {
    this.cells.forEach((row, d) => row.forEach((cell, h) => cell.classList.toggle('on', Boolean(this.grid[d]?.[h]))));
  }
}

/** Record plans: the list, and a weekly grid editor (weekdays by hours, click-drag to paint) that saves through the plans API. */
export const recordPlansPage: Page = {
  id: 'record-plans',
  path: '/record-plans',
  titleKey: 'recordPlans.title',
  mount(root: HTMLElement, ctx: AppContext): () => void {
    const { t } = ctx;
    const notice = new Notice(ctx);
    const list = el('div', {});
    const heading = el('h3', {}, t('recordPlans.creating'));
    const schedule = el('code', { id: 'weekly-text' });
    const grid = new WeekGridEditor(ctx, () => (schedule.textContent = weeklyOfGrid(grid.value)));
    const id = input({ required: true, pattern: '[A-Za-z0-9_.\\-]{1,64}', placeholder: 'office-hours', id: 'plan-id' });
    const streams = input({ required: true, placeholder: 'live/cam1, rtp/*', size: 50, id: 'plan-streams' });
    const formats = FORMATS.map((f) => input({ type: 'checkbox', value: f, ...(f === 'flv' ? { checked: true } : {}) }));
    const enabled = input({ type: 'checkbox', checked: true });
    const hint = el('p', { class: 'hint' });
    let editing: PlanDto | undefined;

    const show = (plan: PlanDto | undefined): void => {
      editing = plan;
      heading.textContent = plan ? t('recordPlans.editing', { id: plan.id }) : t('recordPlans.creating');
      id.value = plan?.id ?? '';
      id.disabled = Boolean(plan);
      streams.value = plan?.streams.join(', ') ?? '';
      for (const box of formats) box.checked = plan ? plan.formats.includes(box.value as (typeof FORMATS)[number]) : box.value === 'flv';
      enabled.checked = plan?.enabled ?? true;
      grid.value = plan?.weeklyHours ? gridOfHours(plan.weeklyHours) : emptyGrid();
      schedule.textContent = weeklyOfGrid(grid.value);
      hint.textContent = plan && plan.when !== 'weekly' ? t('recordPlans.notWeekly', { when: t(`recordPlans.${plan.when}`) }) : '';
    };

    const load = async (): Promise<void> => {
      await notice.run(t('recordPlans.load'), async () => {
        const { plans } = await ctx.api<{ plans: PlanDto[] }>('GET', '/api/record/plans');
        const rows = plans.map((p) => [
          el('code', {}, p.id),
          p.streams.join(', '),
          p.formats.join(', '),
          p.when === 'weekly' ? p.weekly : p.when === 'cron' ? p.cron : t('recordPlans.always'),
          p.enabled ? t('manage.yes') : t('manage.no'),
          p.window.active ? t('manage.yes') : t('manage.no'),
          p.source === 'api'
            ? el(
                'span',
                { class: 'actions' },
                button(t('manage.edit'), () => show(p)),
                deleteButton(ctx, async () => {
                  if (await notice.run(t('recordPlans.deleting', { id: p.id }), () => ctx.api('DELETE', `/api/record/plans/${p.id}`)))
                    notice.ok(t('manage.deleted', { what: p.id }));
                  if (editing?.id === p.id) show(undefined);
                  void load();
                }),
              )
            : t('manage.readOnly'),
        ]);
        list.replaceChildren(
          rows.length
            ? table(['id', 'streamsShort', 'formats', 'when', 'enabled', 'active'].map((k) => t(`recordPlans.${k}`)).concat(''), rows)
            : el('p', { class: 'empty' }, t('recordPlans.noPlans')),
        );
      });
    };

    const save = async (): Promise<void> => {
      const weekly = weeklyOfGrid(grid.value);
      if (!weekly) return notice.error(t('manage.save'), new Error(t('recordPlans.emptyGrid')));
      const body: PlanBody = {
        enabled: enabled.checked,
        streams: streams.value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        formats: formats.filter((b) => b.checked).map((b) => b.value),
        when: 'weekly',
        weekly,
      };
      const planId = editing?.id ?? id.value.trim();
      const saved = await notice.run(t('recordPlans.saving', { id: planId }), async () => {
        const plan = editing ? await ctx.api<PlanDto>('PATCH', `/api/record/plans/${planId}`, body) : await ctx.api<PlanDto>('POST', '/api/record/plans', { ...body, id: planId });
        show(plan);
      });
      if (saved) notice.ok(t('manage.saved'));
      await load();
    };

    const presets = el(
      'div',
      { class: 'presets' },
      button(t('recordPlans.clear'), () => {
        grid.value = emptyGrid();
        schedule.textContent = '';
      }),
      button(t('recordPlans.all'), () => {
        grid.value = paint(emptyGrid(), { day: 0, hour: 0 }, { day: 6, hour: 23 }, true);
        schedule.textContent = weeklyOfGrid(grid.value);
      }),
      button(t('recordPlans.workHours'), () => {
        grid.value = paint(emptyGrid(), { day: 0, hour: 8 }, { day: 4, hour: 17 }, true);
        schedule.textContent = weeklyOfGrid(grid.value);
      }),
    );
    const editor = el(
      'div',
      { class: 'plan-editor' },
      heading,
      labelled(t('recordPlans.id'), id),
      labelled(t('recordPlans.streams'), streams),
      el('fieldset', { class: 'formats' }, el('legend', {}, t('recordPlans.formats')), ...formats.map((box) => el('label', {}, box, box.value))),
      labelled(t('recordPlans.enabled'), enabled),
      el('p', { class: 'hint' }, t('recordPlans.gridHelp')),
      presets,
      grid.root,
      el('p', {}, `${t('recordPlans.schedule')}: `, schedule),
      hint,
      el(
        'div',
        { class: 'actions' },
        button(t('manage.save'), save, { id: 'save-plan' }),
        button(t('recordPlans.newPlan'), () => show(undefined)),
      ),
    );
    const page = el('section', { class: 'manage-page' }, el('h2', {}, t('recordPlans.title')), list, notice.root, editor);
    root.append(page);
    void load();
    return () => {
      grid.destroy();
      page.remove();
    };
  },
};
