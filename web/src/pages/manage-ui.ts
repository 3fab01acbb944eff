/**
 * Small pieces the management pages share: tables, buttons with a two-step delete, a notice
 * line for the server's errors, and number/time formats. Text in the `manage` namespace.
 */
import type { ConsoleEventType } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';

registerMessages('manage', {
  en: {
    save: 'Save',
    edit: 'Edit',
    cancel: 'Cancel',
    delete: 'Delete',
    confirmDelete: 'Really delete?',
    add: 'Add',
    refresh: 'Refresh',
    saved: 'Saved.',
    deleted: 'Deleted {what}.',
    failed: '{what} failed: {message}',
    none: 'None.',
    readOnly: 'from the config file (read-only here)',
    yes: 'yes',
    no: 'no',
  },
  'zh-CN': {
    save: '保存',
    edit: '编辑',
    cancel: '取消',
    delete: '删除',
    confirmDelete: '确认删除？',
    add: '添加',
    refresh: '刷新',
    saved: '已保存。',
    deleted: '已删除 {what}。',
    failed: '{what}失败：{message}',
    none: '无。',
    readOnly: '来自配置文件（此处只读）',
    yes: '是',
    no: '否',
  },
});

type Child = Node | string | undefined | null | false;

/** A table with a header row; `rows` are cells (text or nodes). */
export function table(headers: readonly string[], rows: readonly Child[][], className = 'grid-table'): HTMLTableElement {
  return el(
    'table',
    { class: className },
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c))))),
  );
}

export function button(text: string, onClick: () => void | Promise<void>, props: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', ...props }, text);
  b.addEventListener('click', () => void onClick());
  return b;
}

/** A delete button that asks once more in place (no browser dialog: control-room screens and tests). */
export function deleteButton(ctx: AppContext, onConfirm: () => Promise<void>, label = ctx.t('manage.delete')): HTMLButtonElement {
  const b = el('button', { type: 'button', class: 'danger' }, label);
  let armed: number | undefined;
  b.addEventListener('click', () => {
    if (armed === undefined) {
      b.textContent = ctx.t('manage.confirmDelete');
      armed = window.setTimeout(() => {
        armed = undefined;
        b.textContent = label;
      }, 4000);
      return;
    }
    window.clearTimeout(armed);
    armed = undefined;
    b.disabled = true;
    void onConfirm().finally(() => (b.disabled = false));
  });
  return b;
}

/** The status line of a page: what was done, or the server's error message. */
export class Notice {
  readonly root = el('p', { class: 'notice', role: 'status' });

  constructor(private readonly ctx: AppContext) {}

  ok(text: string): void {
    this.root.textContent = text;
    this.root.className = 'notice';
  }

  error(what: string, err: unknown): void {
    this.root.textContent = this.ctx.t('manage.failed', { what, message: err instanceof Error ? err.message : String(err) });
    this.root.className = 'notice error';
  }

  /** Runs `action`, reporting its error under `what`; resolves whether it worked. */
  async run(what: string, action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      return true;
    } catch (err) {
      this.error(what, err);
      return false;
    }
  }
}

export function input(props: Record<string, string | number | boolean | undefined>): HTMLInputElement {
  return el('input', props);
}

export function select(options: readonly { value: string; label: string }[], value: string, props: Record<string, string> = {}): HTMLSelectElement {
  return el('select', props, ...options.map((o) => el('option', { value: o.value, ...(o.value === value ? { selected: true } : {}) }, o.label)));
}

export function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el('label', { class: 'field' }, el('span', {}, text), control);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const hms = [Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return d > 0 ? `${d}d ${hms}` : hms;
}

export function formatTime(epochMs: number | null | undefined, lang: string): string {
  return epochMs ? new Date(epochMs).toLocaleString(lang) : '—';
}

/** Re-runs `load` on these live events and every `everyMs`; returns the cleanup. */
export function refreshOn(ctx: AppContext, types: readonly ConsoleEventType[], load: () => void, everyMs = 10_000): () => void {
  const offs = types.map((type) => ctx.events.on(type, () => load()));
  const timer = window.setInterval(load, everyMs);
  return () => {
    window.clearInterval(timer);
    for (const off of offs) off();
  };
}
