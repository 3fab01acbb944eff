import type { StreamStatusDto } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import { reasonText } from './play-prep';

registerMessages('tile', {
  en: {
    connecting: 'connecting…',
    lost: 'stream lost',
    retryIn: 'next try in {seconds} s (attempt {attempt})',
    retryNow: 'Retry now',
    noH265: 'This browser cannot decode H.265. Try the other stream, or open the HLS or TS address:',
    codecUnsupported: 'This browser cannot decode {codec}.',
  },
  'zh-CN': {
    connecting: '正在连接…',
    lost: '流已断开',
    retryIn: '{seconds} 秒后重试（第 {attempt} 次）',
    retryNow: '立即重试',
    noH265: '此浏览器无法解码 H.265。请换用另一路码流，或打开 HLS / TS 地址：',
    codecUnsupported: '此浏览器无法解码 {codec}。',
  },
});

/**
 * What a tile's overlay says, as state (never as text): the text is drawn from it in the page's
 * language each time, so a language switch or a picture that arrives never leaves stale words.
 */
export type TileView =
  | { kind: 'connecting' }
  | { kind: 'playing' }
  /** No picture: the server's reason (or the player's own words) and, when waiting, the next try. */
  | { kind: 'waiting'; status?: StreamStatusDto; why?: string; retryAt?: number; attempt: number }
  | { kind: 'codec'; codec: string; alternatives: string[] };

/** `data-state` of the reason line: the server's state, or connecting / reconnecting / codec / playing. */
export function viewState(view: TileView): string {
  if (view.kind === 'waiting') return view.status?.state ?? 'reconnecting';
  return view.kind;
}

/** Draws `view` into the tile's reason line; `onRetry` is the "Retry now" button. */
export function drawReason(ctx: AppContext, line: HTMLElement, view: TileView, onRetry: () => void): void {
  line.hidden = view.kind === 'playing';
  line.dataset.state = viewState(view);
  line.className = view.kind === 'connecting' ? 'tile-reason' : 'tile-reason error';
  if (view.kind === 'playing') return line.replaceChildren();
  if (view.kind === 'connecting') return line.replaceChildren(ctx.t('tile.connecting'));
  if (view.kind === 'codec') {
    const lines: (Node | string)[] = [view.codec === 'h265' ? ctx.t('tile.noH265') : ctx.t('tile.codecUnsupported', { codec: view.codec })];
    for (const alt of view.alternatives) lines.push(el('br'), el('a', { href: alt, target: '_blank', rel: 'noopener' }, alt));
    return line.replaceChildren(...lines);
  }
  const said = view.status ? reasonText(ctx, view.status) : { text: ctx.t('tile.lost'), detail: view.why };
  const parts: (Node | string)[] = [el('span', { class: 'reason-text' }, said.text)];
  if (said.detail) parts.push(el('br'), el('small', { class: 'reason-detail' }, said.detail));
  if (view.retryAt !== undefined) {
    const again = el('button', { type: 'button', class: 'tile-retry' }, ctx.t('tile.retryNow'));
    again.addEventListener('click', (event) => {
      event.stopPropagation();
      onRetry();
    });
    parts.push(el('br'), el('small', { class: 'reason-retry' }, countdown(ctx, view)), ' ', again);
  }
  line.replaceChildren(...parts);
}

/** "next try in 57 s": redrawn each second without touching the button (a click in progress stays). */
export function drawCountdown(ctx: AppContext, line: HTMLElement, view: TileView): void {
  const small = line.querySelector('.reason-retry');
  if (small && view.kind === 'waiting') small.textContent = countdown(ctx, view);
}

function countdown(ctx: AppContext, view: Extract<TileView, { kind: 'waiting' }>): string {
  const seconds = Math.max(0, Math.ceil(((view.retryAt ?? Date.now()) - Date.now()) / 1000));
  return ctx.t('tile.retryIn', { seconds, attempt: view.attempt });
}
