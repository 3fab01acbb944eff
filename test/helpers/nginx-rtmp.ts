/**
 * nginx with Debian's RTMP module (libnginx-mod-rtmp), started by a test on 127.0.0.1: the
 * real CDN-style server that pushes go to and pulls come from. nginx cannot listen on port 0,
 * so a free port is found first (bind 0, read it, release it) and kept across restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';
export const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

/** A port the OS just gave out and nobody holds now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class NginxRtmp {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'gw-nginx-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<NginxRtmp> {
    const nginx = new NginxRtmp(await freePort());
    await nginx.restart();
    return nginx;
  }

  /** `rtmp://127.0.0.1:PORT/live/NAME` */
  url(name: string, app = 'live'): string {
    return `rtmp://127.0.0.1:${this.port}/${app}/${name}`;
  }

  /** (Re)starts nginx on the same port. */
  async restart(): Promise<void> {
    await this.kill();
    const conf = join(this.dir, 'nginx.conf');
    writeFileSync(
      conf,
      `load_module ${RTMP_MODULE};
worker_processes 1;
pid ${join(this.dir, 'nginx.pid')};
error_log ${join(this.dir, 'error.log')} info;
events { worker_connections 1024; }
rtmp {
  server {
    listen 127.0.0.1:${this.port};
    chunk_size 4096;
    ping 30s;
    application live {
      live on;
      record off;
      wait_key on;
      drop_idle_publisher 30s;
    }
  }
}
`,
    );
    const child = spawn(NGINX, ['-p', this.dir, '-e', join(this.dir, 'error.log'), '-c', conf, '-g', 'daemon off; master_process off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8192)));
    try {
      await waitForPort(this.port);
    } catch (err) {
      throw new Error(`nginx-rtmp did not start: ${stderr} ${this.errorLog()}`, { cause: err });
    }
  }

  errorLog(): string {
    const file = join(this.dir, 'error.log');
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-4000) : '';
  }

  /** SIGKILL, as a crash would: connections are cut without a goodbye. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
