import type { GatewayConfig } from '../../config/schema';
import type { Logger } from '../../core/log';
import { HOOK_NAMES, type HookName } from './bodies';
import { DEFAULT_HOOK_CLIENT, HookClient, type HookOutcome } from './client';
import { Webhooks, type WebhookDeps } from './webhooks';

/** The hook URLs that are set (an empty string turns a hook off). */
export function hookUrlsFrom(hooks: GatewayConfig['hooks']): Partial<Record<HookName, string>> {
  const urls: Partial<Record<HookName, string>> = {};
  for (const name of HOOK_NAMES) if (hooks[name]) urls[name] = hooks[name];
  return urls;
}

/** Builds the hook client and the hooks from `hooks.*`; undefined when no hook URL is set. */
export function createWebhooks(
  config: GatewayConfig,
  deps: Omit<WebhookDeps, 'client'>,
  counted: (hook: string, outcome: HookOutcome) => void,
  log: Logger,
): { webhooks: Webhooks; client: HookClient } | undefined {
  const urls = hookUrlsFrom(config.hooks);
  if (Object.keys(urls).length === 0) return undefined;
  const client = new HookClient(
    { ...DEFAULT_HOOK_CLIENT, timeoutMs: config.hooks.timeout * 1000, secret: config.hooks.secret, retries: config.hooks.retries, queueSize: config.hooks.queueSize },
    log,
    counted,
  );
  const webhooks = new Webhooks(
    {
      urls,
      serverId: config.hooks.serverId || config.sip.id,
      failOpen: config.hooks.failOpen,
      keepaliveMs: config.hooks.keepaliveInterval * 1000,
      noneReaderDelayMs: config.hooks.noneReaderDelay * 1000,
    },
    { ...deps, client },
  );
  log.info({ hooks: Object.keys(urls), signed: config.hooks.secret !== '' }, 'webhooks on');
  return { webhooks, client };
}
