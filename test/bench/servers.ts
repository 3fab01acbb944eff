/**
 * The processes of a fan-out round: the server under test (the gateway or node-media-server,
 * each as its own child process), the ffmpeg publisher, and the cached source file.
 */
import { nmsCommandLine } from '../helpers/node-media-server';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ffmpegPath, runTool } from '../helpers/media-tools';
import { testPatternArgs, type TestPatternOptions } from '../helpers/publisher';
import { LOOPBACK_LISTENERS } from '../helpers/loopback-env';

/** `baseline`: another build of the gateway (`--baseline DIR`), for before/after in one run. */
export type ServerKind = 'gateway' | 'baseline' | 'nms' | 'relay';

/** Every child process and temporary directory a run opened, so that any exit can end them. */
export class Resources {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();

  track(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.add(dir);
    return dir;
  }

  removeDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    this.dirs.delete(dir);
  }

  /** Synchronous, for process 'exit' and signal handlers. */
  killAll(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    this.children.clear();
    this.dirs.clear();
  }
}

/** A child process of the run: keeps its stderr tail and tells an early exit from a stop. */
export class ManagedChild {
  private stderrText = '';
  private early: string | undefined;
  private stopping = false;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    resources: Resources,
  ) {
    resources.track(child);
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrText += chunk.toString();
      if (this.stderrText.length > 16_384) this.stderrText = this.stderrText.slice(-8192);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (!this.stopping) this.early = `${name} exited with ${signal ?? `code ${code}`}: ${this.stderrText.slice(-500)}`;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  stderrTail(): string {
    return this.stderrText.slice(-500);
  }

  /** Why the process ended, if it ended before `stop()`. */
  exitedEarly(): string | undefined {
    return this.early;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface ServerHandle {
  kind: ServerKind;
  process: ManagedChild;
  rtmpPort: number;
  httpPort: number;
  /** The gateway's RTSP port. */
  rtspPort?: number;
  /** Warning and error log lines, counted by message. */
  problems: Map<string, number>;
  stop(): Promise<void>;
}

function countProblem(problems: Map<string, number>, message: string): void {
  if (problems.size >= 50 && !problems.has(message)) return;
  problems.set(message, (problems.get(message) ?? 0) + 1);
}

/** Resolves with the gateway's bound ports from its 'gateway listening' JSON log line. */
function readGatewayLog(proc: ManagedChild, problems: Map<string, number>): Promise<{ rtmp: number; http: number; rtsp?: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not listen within 60 s: ${proc.stderrTail()}`)), 60_000);
    proc.child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${proc.exitedEarly() ?? 'gateway exited'} (before listening)`));
    });
    createInterface({ input: proc.child.stdout! }).on('line', (line) => {
      // Info lines are not parsed: the load client stays cheap.
      if (!line.includes('"level":4') && !line.includes('"level":5') && !line.includes('gateway listening')) return;
      let entry: { level?: number; msg?: string; ports?: { rtmp?: number; http?: number; rtsp?: number } };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'gateway listening' && entry.ports?.rtmp && entry.ports.http) {
        clearTimeout(timer);
        resolve({ rtmp: entry.ports.rtmp, http: entry.ports.http, ...(entry.ports.rtsp ? { rtsp: entry.ports.rtsp } : {}) });
      } else if ((entry.level ?? 0) >= 40) {
        countProblem(problems, `${(entry.level ?? 0) >= 50 ? 'error' : 'warn'}: ${entry.msg ?? line.slice(0, 200)}`);
      }
    });
  });
}

/** Credentials the benchmarked gateway is started with (play open: the bench measures fan-out, not tokens). */
export const BENCH_SECRETS = { secret: 'bench-admin-secret-0123456789', publishKey: 'bench-publish-key' } as const;

/** How a benchmarked gateway is started (the cluster bench passes its worker count here). */
export interface GatewayStartOptions {
  /** Extra GW_* settings over the bench's own (ports 0 on 127.0.0.1, secrets, play open). */
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags before main.js; default from BENCH_GATEWAY_NODE_ARGS. */
  readonly nodeArgs?: readonly string[];
  /** The kind the handle reports (`baseline` for another build). */
  readonly kind?: 'gateway' | 'baseline';
}

/**
 * `node dist/src/app/main.js` on 127.0.0.1 with OS-chosen ports; resolves once its
 * 'gateway listening' log line has named them.
 */
export async function startGateway(root: string, resources: Resources, options: GatewayStartOptions = {}): Promise<ServerHandle> {
  const storage = resources.tempDir('gw-fanout-');
  const env = {
    ...process.env,
    ...LOOPBACK_LISTENERS,
    GW_STORAGE_DIR: storage,
    GW_LOG_PRETTY: 'no',
    GW_LOG_LEVEL: 'info',
    GW_AUTH_SECRET: BENCH_SECRETS.secret,
    GW_AUTH_PUBLISH_KEY: BENCH_SECRETS.publishKey,
    GW_AUTH_PLAY: 'open',
    ...options.env,
  };
  // BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the gateway under load.
  const nodeArgs = options.nodeArgs ?? (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'dist', 'src', 'app', 'main.js')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
  const proc = new ManagedChild('gateway', child, resources);
  const problems = new Map<string, number>();
  const stop = async (): Promise<void> => {
    await proc.stop(10_000);
    resources.removeDir(storage);
  };
  let ports;
  try {
    ports = await readGatewayLog(proc, problems);
  } catch (err) {
    await stop();
    throw err;
  }
  return { kind: options.kind ?? 'gateway', process: proc, rtmpPort: ports.rtmp, httpPort: ports.http, ...(ports.rtsp ? { rtspPort: ports.rtsp } : {}), problems, stop };
}

/** A port that was free a moment ago (bind 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port}`);
}

/**
 * node-media-server's own CLI (bin/app.js) with a config of ours in a temporary directory (the
 * CLI writes generated secrets back into its config file: never let it touch node_modules):
 * no admin console, no RTMPS/HTTPS, no recording, media ports on 127.0.0.1.
 */
export async function startNms(resources: Resources): Promise<ServerHandle> {
  const dir = resources.tempDir('nms-fanout-');
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const args = nmsCommandLine(dir, rtmpPort, httpPort, 'fanout-bench-not-a-secret');
  const proc = new ManagedChild('node-media-server', spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), resources);
  const problems = new Map<string, number>();
  createInterface({ input: proc.child.stdout! }).on('line', (line) => {
    const match = /\] \[(WARN|ERROR)\] (.*)$/.exec(line);
    if (match) countProblem(problems, `${match[1]!.toLowerCase()}: ${match[2]!.slice(0, 200)}`);
  });
  const stop = async (): Promise<void> => {
    await proc.stop(10_000);
    resources.removeDir(dir);
  };
  try {
    await waitForPort(rtmpPort, 15_000, () => proc.child.exitCode === null);
    await waitForPort(httpPort, 15_000, () => proc.child.exitCode === null);
  } catch (err) {
    await stop();
    throw new Error(`node-media-server did not start: ${String(err)} ${proc.exitedEarly() ?? ''}`);
  }
  return { kind: 'nms', process: proc, rtmpPort, httpPort, problems, stop };
}

/**
 * The Node relay ceiling (test/bench/relay.ts) as its own process: it serves the source itself,
 * so it needs no publisher.
 */
/** `flvNoDelay`: TCP_NODELAY on the relay's HTTP-FLV and WebSocket-FLV sockets, as the gateway's http.flvNoDelay (default Nagle, as Node's). */
export async function startRelay(root: string, source: string, resources: Resources, flvNoDelay = false): Promise<ServerHandle> {
  const script = join(root, 'dist', 'test', 'bench', 'relay.js');
  const proc = new ManagedChild(
    'relay',
    spawn(process.execPath, [script, source, ...(flvNoDelay ? ['--flv-no-delay'] : [])], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }),
    resources,
  );
  const stop = (): Promise<void> => proc.stop(5000);
  try {
    const ports = await new Promise<{ http: number; rtmp: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay did not listen within 60 s: ${proc.stderrTail()}`)), 60_000);
      proc.child.once('exit', () => reject(new Error(proc.exitedEarly() ?? 'relay exited')));
      createInterface({ input: proc.child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { http: number; rtmp: number });
      });
    });
    return { kind: 'relay', process: proc, rtmpPort: ports.rtmp, httpPort: ports.http, problems: new Map(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `ffmpeg -re -stream_loop -1 -i SRC -c copy -f flv URL`: the same publisher for every server. */
export function startPublisher(source: string, url: string, resources: Resources): ManagedChild {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', source, '-c', 'copy', '-f', 'flv', url];
  return new ManagedChild('publisher', spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }), resources);
}

/** The encoding of the source; part of the cache file name so a change makes a new file. */
const SOURCE: TestPatternOptions = {
  size: '1280x720',
  gop: 50,
  seconds: 60,
  realtime: false,
  preset: 'veryfast',
  zeroLatency: true,
  bitrate: '1900k',
  maxrate: '1900k',
  bufsize: '3800k',
  audioBitrate: '128k',
};

/** A 60 s 720p25 H.264 1.9 Mbit/s + AAC 128 kbit/s FLV, made once and kept in the temp dir. */
export async function ensureSource(log: (line: string) => void): Promise<string> {
  const path = join(tmpdir(), 'gw-fanout-src-720p25-1900k-aac128-60s-v1.flv');
  if (existsSync(path) && statSync(path).size > 1_000_000) return path;
  log(`making the source ${path} (once; about 20-60 s)`);
  const partial = `${path}.${process.pid}.partial`;
  const result = await runTool(ffmpegPath, ['-nostdin', ...testPatternArgs(partial, SOURCE)], 600_000);
  if (result.code !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`ffmpeg could not make the source: ${result.stderr.slice(-1000)}`);
  }
  renameSync(partial, path);
  return path;
}
