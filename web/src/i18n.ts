/**
 * UI text in English and Chinese. Each page registers its own namespace in its own file
 * (`registerMessages('wall', {...})`), so no shared dictionary grows conflicts; keys are
 * `namespace.key`, `{name}` placeholders are filled from params.
 */
export type Lang = 'en' | 'zh-CN';
export const LANGS: readonly Lang[] = ['en', 'zh-CN'];

type Messages = Record<string, string>;
const catalogs: Record<Lang, Map<string, string>> = { en: new Map(), 'zh-CN': new Map() };

export function registerMessages(namespace: string, messages: { en: Messages; 'zh-CN': Messages }): void {
  for (const lang of LANGS) {
    for (const [key, text] of Object.entries(messages[lang])) catalogs[lang].set(`${namespace}.${key}`, text);
  }
}

/** The text of `key` in `lang` (else English, else the key itself, so a missing entry shows). */
export function translate(lang: Lang, key: string, params?: Record<string, string | number>): string {
  const text = catalogs[lang].get(key) ?? catalogs.en.get(key) ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

const STORED = 'gw.lang';

/** The user's choice if made, else the browser's language (any `zh*` is Chinese). */
export function initialLang(): Lang {
  const stored = localStorage.getItem(STORED);
  if (stored === 'en' || stored === 'zh-CN') return stored;
  return (navigator.languages?.[0] ?? navigator.language ?? 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function storeLang(lang: Lang): void {
  localStorage.setItem(STORED, lang);
}
