import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, waitFor } from '../helpers/gateway';

const MAIN = join(PROJECT_ROOT, 'dist', 'src', 'app', 'main.js');

function runGateway(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: the gateway stops accepting, ends sessions and exits 0 within 5 s`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-main-'));
    const run = runGateway([], { GW_HTTP_PORT: '0', GW_RTMP_PORT: '0', GW_HTTP_HOST: '127.0.0.1', GW_RTMP_HOST: '127.0.0.1', GW_STORAGE_DIR: dir, GW_LOG_PRETTY: 'no' });
    try {
      const line = await waitFor(() => run.out().split('\n').find((l) => l.includes('gateway listening')), 15_000, 'the listening log line');
      const entry = JSON.parse(line) as { ports: { http: number; rtmp: number }; level: number; msg: string };
      assert.ok(entry.ports.http > 0 && entry.ports.rtmp > 0, 'logs the ports it bound');
      const health = (await (await fetch(`http://127.0.0.1:${entry.ports.http}/api/health`)).json()) as { status: string };
      assert.equal(health.status, 'ok');
      const started = Date.now();
      run.child.kill(signal);
      const code = await run.exited;
      assert.equal(code, 0, run.err());
      assert.ok(Date.now() - started < 5000, `exited in ${Date.now() - started} ms`);
      assert.match(run.out(), /gateway stopped/);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a bad config stops the start with a message naming the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-main-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'rtmp:\n  port: -1\n');
  const run = runGateway(['--config', file], {});
  const code = await run.exited;
  assert.equal(code, 1);
  assert.match(run.err(), /config key "rtmp\.port": -1 is out of range 0\.\.65535/);
  rmSync(dir, { recursive: true, force: true });
});
