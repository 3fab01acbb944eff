import type { EventBus } from './events';
import type { Lang } from './i18n';

/** What every page gets: the API, its text, the live events and navigation. */
export interface AppContext {
  /** JSON API call with the session's CSRF token; a 401 shows the login and rejects. */
  api<T>(method: string, url: string, body?: unknown): Promise<T>;
  t(key: string, params?: Record<string, string | number>): string;
  events: EventBus;
  navigate(path: string): void;
  lang: Lang;
}

/** An API answer that was not 2xx: `code` and `message` are the server's `{code, message}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * At most this many API calls at once: with the event channel that makes five of the six
 * HTTP/1.1 connections a browser opens to one host, so no call ever queues behind the limit
 * (the tiles' WebSockets are not counted in it).
 */
const MAX_CALLS = 4;

/** The API client: the console session's cookie goes by itself, the CSRF token with every call. */
export class ApiClient {
  csrfToken = '';
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly onUnauthorized: () => void) {}

  async call<T>(method: string, url: string, body?: unknown): Promise<T> {
    if (this.active >= MAX_CALLS) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await this.send<T>(method, url, body);
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }

  private async send<T>(method: string, url: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { 'x-csrf-token': this.csrfToken };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
    if (res.status === 401) {
      this.onUnauthorized();
      throw new ApiError(401, 'UNAUTHORIZED', json.message ?? 'not logged in');
    }
    if (!res.ok) throw new ApiError(res.status, json.code ?? 'HTTP', json.message ?? `HTTP ${res.status}`);
    return json as T;
  }

  /** The session after a reload, if the cookie is still good. */
  async restore(): Promise<boolean> {
    try {
      const session = await this.call<{ login: string; csrfToken?: string }>('GET', '/api/auth/session');
      this.csrfToken = session.csrfToken ?? '';
      return true;
    } catch {
      return false;
    }
  }

  /** Console login with the admin secret; resolves with an error text or undefined on success. */
  async login(secret: string): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
    const res = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret }) });
    const json = (await res.json().catch(() => ({}))) as { csrfToken?: string; message?: string };
    if (!res.ok) return { ok: false, status: res.status, message: json.message ?? `HTTP ${res.status}` };
    this.csrfToken = json.csrfToken ?? '';
    return { ok: true };
  }

  async logout(): Promise<void> {
    await this.call('POST', '/api/auth/logout', {}).catch(() => undefined);
    this.csrfToken = '';
  }
}

/** `el('button', {class: 'x', dataset: {path}}, 'text', child)`: DOM without innerHTML (names from devices are text, never markup). */
export type ElProps = { [attribute: string]: string | number | boolean | undefined | Record<string, string> };

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElProps = {}, ...children: (Node | string | undefined | null | false)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'dataset') Object.assign(node.dataset, value as Record<string, string>);
    else if (value === true) node.setAttribute(name, '');
    else if (typeof value === 'string' || typeof value === 'number') node.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== undefined && child !== null && child !== false) node.append(child);
  return node;
}
