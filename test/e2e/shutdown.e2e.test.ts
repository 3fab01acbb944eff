import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Server, createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, waitFor } from '../helpers/gateway';
import { LOOPBACK_LISTENERS } from '../helpers/loopback-env';

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

async function startAndStop(signal: 'SIGTERM' | 'SIGINT'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-main-'));
  const run = runGateway([], { ...LOOPBACK_LISTENERS, GW_STORAGE_DIR: dir, GW_LOG_PRETTY: 'no' });
  try {
    const line = await waitFor(
      () =>
        run
          .out()
          .split('\n')
          .find((l) => l.includes('gateway listening')),
      15_000,
      `the listening log line (${run.err()})`,
    );
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
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: the gateway stops accepting, ends sessions and exits 0 within 5 s`, () => startAndStop(signal));
}

/** Holds a default port (or finds it already held, as by a running `npm start`). */
async function occupy(kind: 'tcp' | 'udp', port: number): Promise<() => Promise<void>> {
  const server = kind === 'tcp' ? createServer() : createSocket('udp4');
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false)); // EADDRINUSE: somebody holds it already
    if (server instanceof Server) server.listen(port, '127.0.0.1', () => resolve(true));
    else server.bind(port, '127.0.0.1', () => resolve(true));
  });
  return () => (bound ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve());
}

test('the shutdown run passes with the default ports (1935, 8080, 5060, 30000) already taken', async () => {
  const releases = await Promise.all([occupy('tcp', 1935), occupy('tcp', 8080), occupy('tcp', 5060), occupy('udp', 5060), occupy('udp', 30000), occupy('tcp', 30000)]);
  try {
    await startAndStop('SIGTERM');
  } finally {
    await Promise.all(releases.map((release) => release()));
  }
});

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
