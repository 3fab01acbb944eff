import { ApiClient, el, type AppContext } from './app';
import { ServerEvents } from './events';
import { LANGS, initialLang, registerMessages, storeLang, translate, type Lang } from './i18n';
import { PAGES, type Page } from './pages/index';

registerMessages('shell', {
  en: {
    brand: 'Media gateway',
    secret: 'Admin secret (auth.secret, printed at the first start, in storage.dir/secrets.json)',
    login: 'Log in',
    logout: 'Log out',
    loginNeeded: 'log in to see the console',
    tooMany: 'too many attempts: wait a minute',
    loginFailed: 'login failed: {message}',
    language: 'Language',
    notFound: 'No page at {path}.',
  },
  'zh-CN': {
    brand: '媒体网关',
    secret: '管理密钥（auth.secret，首次启动时打印，保存在 storage.dir/secrets.json）',
    login: '登录',
    logout: '退出',
    loginNeeded: '请登录后使用控制台',
    tooMany: '尝试次数过多：请等待一分钟',
    loginFailed: '登录失败：{message}',
    language: '语言',
    notFound: '{path} 没有页面。',
  },
});

const LANG_NAMES: Record<Lang, string> = { en: 'English', 'zh-CN': '中文' };

/** The console shell: login, nav, language switch, the live event channel and the page router. */
class Shell {
  private lang: Lang = initialLang();
  private readonly events = new ServerEvents();
  private readonly client = new ApiClient(() => this.showLogin(true));
  private unmount: (() => void) | undefined;
  private readonly nav = el('nav', { id: 'nav' });
  private readonly status = el('span', { id: 'status', role: 'status' });
  private readonly page = el('main', { id: 'page' });
  private readonly login = el('form', { id: 'login', hidden: true });
  private readonly header = el('header', {});
  readonly ctx: AppContext;

  constructor() {
    const currentLang = (): Lang => this.lang;
    this.ctx = {
      api: (method, url, body) => this.client.call(method, url, body),
      t: (key, params) => translate(this.lang, key, params),
      events: this.events,
      navigate: (path) => this.navigate(path),
      get lang() {
        return currentLang();
      },
    };
    document.body.replaceChildren(this.header, this.login, this.page);
    this.login.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submitLogin();
    });
    window.addEventListener('popstate', () => this.route());
  }

  async start(): Promise<void> {
    this.drawChrome();
    if (await this.client.restore()) this.loggedIn();
    else this.showLogin(true);
  }

  setStatus(text: string, error: boolean): void {
    this.status.textContent = text;
    this.status.className = error ? 'error' : '';
  }

  private drawChrome(): void {
    const { t } = this.ctx;
    document.documentElement.lang = this.lang;
    document.title = t('shell.brand');
    const select = el(
      'select',
      { id: 'lang', 'aria-label': t('shell.language') },
      ...LANGS.map((l) => el('option', { value: l, ...(l === this.lang ? { selected: true } : {}) }, LANG_NAMES[l])),
    );
    select.addEventListener('change', () => {
      this.lang = select.value === 'zh-CN' ? 'zh-CN' : 'en';
      storeLang(this.lang);
      this.drawChrome();
      if (this.login.hidden) this.route();
    });
    const logout = el('button', { type: 'button', id: 'logout' }, t('shell.logout'));
    logout.addEventListener('click', async () => {
      await this.client.logout();
      this.events.disconnect();
      this.showLogin(true);
    });
    this.drawNav();
    logout.hidden = !this.login.hidden || this.page.hidden;
    this.header.replaceChildren(el('h1', {}, t('shell.brand')), this.nav, this.status, select, logout);
    this.login.replaceChildren(
      el('label', {}, t('shell.secret'), el('input', { id: 'secret', type: 'password', autocomplete: 'current-password', required: true })),
      el('button', { type: 'submit' }, t('shell.login')),
    );
  }

  private drawNav(): void {
    const current = this.pageFor(location.pathname);
    this.nav.replaceChildren(
      ...PAGES.map((p) => {
        const a = el('a', { href: p.path, dataset: { page: p.id }, ...(p === current ? { 'aria-current': 'page' } : {}) }, this.ctx.t(p.titleKey));
        a.addEventListener('click', (event) => {
          if (event.ctrlKey || event.metaKey || event.shiftKey) return;
          event.preventDefault();
          this.navigate(p.path);
        });
        return a;
      }),
    );
  }

  private showLogin(show: boolean): void {
    this.login.hidden = !show;
    this.page.hidden = show;
    this.nav.hidden = show;
    this.header.querySelector('#logout')?.toggleAttribute('hidden', show);
    if (show) {
      this.unmount?.();
      this.unmount = undefined;
      this.setStatus(this.ctx.t('shell.loginNeeded'), false);
      this.login.querySelector('input')?.focus();
    }
  }

  private async submitLogin(): Promise<void> {
    const input = this.login.querySelector('input');
    if (!input) return;
    const result = await this.client.login(input.value);
    input.value = '';
    if (!result.ok) {
      this.setStatus(result.status === 429 ? this.ctx.t('shell.tooMany') : this.ctx.t('shell.loginFailed', { message: result.message }), true);
      return;
    }
    this.loggedIn();
  }

  private loggedIn(): void {
    this.showLogin(false);
    this.setStatus('', false);
    this.events.connect();
    this.route();
  }

  private pageFor(pathname: string): Page | undefined {
    if (pathname === '/' || pathname === '/index.html') return PAGES[0];
    return PAGES.find((p) => p.path === pathname);
  }

  private navigate(path: string): void {
    history.pushState(null, '', path);
    this.route();
  }

  private route(): void {
    this.unmount?.();
    this.unmount = undefined;
    this.page.replaceChildren();
    this.drawNav();
    const page = this.pageFor(location.pathname);
    if (!page) {
      this.page.append(el('p', { class: 'empty' }, this.ctx.t('shell.notFound', { path: location.pathname })));
      return;
    }
    this.page.dataset.page = page.id;
    this.unmount = page.mount(this.page, this.ctx);
  }
}

void new Shell().start();
