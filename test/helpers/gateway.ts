import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';
import type { GatewayConfig } from '../../src/config/schema';
import { buildGateway, type BoundPorts, type Gateway } from '../../src/app/build';
import { createRootLogger } from '../../src/app/logger';
import pino from 'pino';

export const PROJECT_ROOT = join(__dirname, '..', '..', '..');
export const DEFAULTS_FILE = join(PROJECT_ROOT, 'conf', 'default.yaml');

export interface TestGateway {
  gateway: Gateway;
  ports: Required<BoundPorts>;
  config: GatewayConfig;
  httpUrl: string;
  rtmpUrl: string;
  stop(): Promise<void>;
}

/**
 * A whole gateway in this process on 127.0.0.1 with OS-chosen ports and a temporary storage
 * dir. `env` takes GW_ overrides exactly as the CLI does.
 */
export async function startTestGateway(env: Record<string, string> = {}, options: { log?: pino.Logger } = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-e2e-'));
  const config = loadConfig({
    defaultsFile: DEFAULTS_FILE,
    env: {
      GW_HTTP_HOST: '127.0.0.1',
      GW_HTTP_PORT: '0',
      GW_RTMP_HOST: '127.0.0.1',
      GW_RTMP_PORT: '0',
      GW_SIP_HOST: '127.0.0.1',
      GW_SIP_PORT: '0',
      GW_STORAGE_DIR: dir,
      GW_RTP_HOST: '127.0.0.1',
      GW_RTP_PORT_MIN: '0',
      GW_LOG_LEVEL: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
      GW_LOG_PRETTY: 'no',
      ...env,
    },
  });
  const gateway = await buildGateway(config, options.log ?? createRootLogger(config.log, false), 'test');
  const bound = await gateway.start();
  const ports = { http: bound.http ?? 0, rtmp: bound.rtmp ?? 0, sip: bound.sip ?? 0 };
  return {
    gateway,
    ports,
    config,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    rtmpUrl: `rtmp://127.0.0.1:${ports.rtmp}`,
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
