import { mkdtempSync, rmSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';
import type { GatewayConfig } from '../../src/config/schema';
import { buildGateway, type BoundPorts, type Gateway } from '../../src/app/build';
import { createRootLogger } from '../../src/app/logger';
import pino from 'pino';
import { LOOPBACK_LISTENERS } from './loopback-env';

export const PROJECT_ROOT = join(__dirname, '..', '..', '..');
export const DEFAULTS_FILE = join(PROJECT_ROOT, 'conf', 'default.yaml');

/**
 * The secrets every test gateway is given through its config (GW_ variables), so that tests
 * pass credentials the way a user's scripts do. No test relies on a shipped secret.
 */
export const TEST_SECRETS = {
  secret: 'test-admin-secret-0123456789abcdef',
  publishKey: 'test-publish-key-42',
  sipPassword: 'test-sip-password',
} as const;

type InjectMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface TestGateway {
  gateway: Gateway;
  ports: Required<BoundPorts>;
  /** The effective config (secrets filled in). */
  config: GatewayConfig;
  httpUrl: string;
  rtmpUrl: string;
  /** `Authorization: Bearer <auth.secret>` for fetch() and inject(). */
  authHeaders: { authorization: string };
  /** `rtmp://.../{path}?key=<auth.publishKey>`: where an encoder publishes. */
  publishUrl(path: string): string;
  /** An API call with the admin credentials (fastify inject, no socket). */
  api(method: InjectMethod, url: string, payload?: object): Promise<LightMyRequestResponse>;
  /** Every log line of the gateway so far (JSON), when started with `captureLogs`. */
  logs(): string[];
  stop(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Keep every log line in memory (`logs()`), for tests that grep them (the gateway's own masking logger). */
  captureLogs?: boolean;
  /** A logger of the test's own instead. */
  log?: pino.Logger;
}

/**
 * A whole gateway in this process on 127.0.0.1 with OS-chosen ports and a temporary storage
 * dir. `env` takes GW_ overrides exactly as the CLI does.
 */
/**
 * Play is `open` here unless the test sets GW_AUTH_PLAY: tests of media features are not about
 * play tokens; test/e2e/access*.e2e.test.ts run with the shipped default (token).
 */
export async function startTestGateway(env: Record<string, string> = {}, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-e2e-'));
  const config = loadConfig({
    defaultsFile: DEFAULTS_FILE,
    env: {
      ...LOOPBACK_LISTENERS,
      GW_STORAGE_DIR: dir,
      GW_LOG_LEVEL: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
      GW_LOG_PRETTY: 'no',
      GW_AUTH_SECRET: TEST_SECRETS.secret,
      GW_AUTH_PUBLISH_KEY: TEST_SECRETS.publishKey,
      GW_SIP_PASSWORD: TEST_SECRETS.sipPassword,
      GW_AUTH_PLAY: 'open',
      ...env,
    },
  });
  const lines: string[] = [];
  const destination = options.captureLogs ? { write: (line: string) => void lines.push(line) } : undefined;
  const gateway = await buildGateway(config, options.log ?? createRootLogger(config.log, false, destination), 'test');
  const bound = await gateway.start();
  const ports = {
    http: bound.http ?? 0,
    rtmp: bound.rtmp ?? 0,
    rtsp: bound.rtsp ?? 0,
    sip: bound.sip ?? 0,
    https: bound.https ?? 0,
    rtmps: bound.rtmps ?? 0,
    rtsps: bound.rtsps ?? 0,
  };
  const rtmpUrl = `rtmp://127.0.0.1:${ports.rtmp}`;
  const authHeaders = { authorization: `Bearer ${gateway.config.auth.secret}` };
  return {
    gateway,
    ports,
    config: gateway.config,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    rtmpUrl,
    authHeaders,
    publishUrl: (path) => `${rtmpUrl}/${path}?key=${encodeURIComponent(gateway.config.auth.publishKey)}`,
    api: (method, url, payload) => gateway.http!.inject({ method, url, payload, headers: authHeaders }),
    logs: () => [...lines],
    async stop() {
      await gateway.stop('test done');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A pino logger whose JSON lines are kept in `lines` (to check what the gateway logs). */
export function capturingLogger(level = 'info'): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  return { log: pino({ level }, stream), lines };
}

/** The simulator options that point a test GB28181 device at this gateway's SIP server. */
export function gbServerOf(gw: Pick<TestGateway, 'ports' | 'config'>): { serverPort: number; serverId: string; domain: string; password: string } {
  return { serverPort: gw.ports.sip, serverId: gw.config.sip.id, domain: gw.config.sip.domain, password: gw.config.sip.password };
}
