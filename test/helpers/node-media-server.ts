/**
 * node-media-server (npm, v4: Enhanced RTMP and HTTP-FLV) run from its own CLI by a test, on
 * 127.0.0.1 with ports found free first, its config in a temporary directory (the CLI writes
 * generated secrets back into its config file: never let it touch node_modules).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './nginx-rtmp';

/**
 * Writes node-media-server's config into `dir` (no admin console, no RTMPS/HTTPS, no recording,
 * media ports on 127.0.0.1) and returns the CLI's arguments, to spawn with `process.execPath`
 * in `dir`. Shared by this helper and the fan-out bench (test/bench/servers.ts).
 */
export function nmsCommandLine(dir: string, rtmpPort: number, httpPort: number, secret: string): string[] {
  const config = {
    bind: '127.0.0.1',
    notify: { url: '' },
    store: { path: './data' },
    auth: { play: false, publish: false, secret },
    rtmp: { port: rtmpPort },
    http: { port: httpPort },
    webadmin: { enable: false },
    record: { auto: false, path: './record' },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const bin = require.resolve('node-media-server/bin/app.js');
  return [bin, '-c', configPath, '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort), '--no-admin'];
}

export class NodeMediaServer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly rtmpPort: number,
    readonly httpPort: number,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-16_384);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(): Promise<NodeMediaServer> {
    const dir = mkdtempSync(join(tmpdir(), 'gw-nms-'));
    const rtmpPort = await freePort();
    const httpPort = await freePort();
    const args = nmsCommandLine(dir, rtmpPort, httpPort, 'relay-test-not-a-secret');
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const nms = new NodeMediaServer(child, dir, rtmpPort, httpPort);
    try {
      await waitForPort(rtmpPort, 15_000);
      await waitForPort(httpPort, 15_000);
    } catch (err) {
      await nms.stop();
      throw new Error(`node-media-server did not start: ${nms.log()}`, { cause: err });
    }
    return nms;
  }

  rtmpUrl(path: string): string {
    return `rtmp://127.0.0.1:${this.rtmpPort}/${path}`;
  }

  flvUrl(path: string): string {
    return `http://127.0.0.1:${this.httpPort}/${path}.flv`;
  }

  log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
