import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT, waitFor } from './gateway';
import { LOOPBACK_LISTENERS } from './loopback-env';

const MAIN = join(PROJECT_ROOT, 'dist', 'src', 'app', 'main.js');
/** Output kept per stream: a chatty debug log is cut to its newest part, never grows without bound. */
const KEEP_BYTES = 4_000_000;

export interface GatewayChild {
  child: ChildProcess;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Its stdout (the JSON log) and stderr (the first-start notice) so far. */
  out(): string;
  err(): string;
  /** The ports of its `gateway listening` log line (`match` narrows the line: the cluster primary's). */
  ports<P = { http: number; rtmp: number; sip: number; rtsp: number }>(options?: { match?: (line: string) => boolean; timeoutMs?: number }): Promise<P>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL (a crash); resolves once it has exited. */
  kill(): Promise<void>;
}

function collect(stream: NodeJS.ReadableStream): () => string {
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    if (text.length > KEEP_BYTES) text = text.slice(-KEEP_BYTES / 4);
  });
  return () => text;
}

/**
 * `node dist/src/app/main.js` as a child process (what SIGKILL hits, what a first start prints),
 * every listener on loopback with an OS-chosen port (LOOPBACK_LISTENERS), then `env` over it.
 */
export function spawnGatewayChild(env: Record<string, string>): GatewayChild {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...LOOPBACK_LISTENERS, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = collect(child.stdout!);
  const err = collect(child.stderr!);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    exited,
    out,
    err,
    async ports<P>(options: { match?: (line: string) => boolean; timeoutMs?: number } = {}): Promise<P> {
      const { match = () => true, timeoutMs = 20_000 } = options;
      const listening = (line: string) => line.includes('gateway listening') && match(line);
      const line = await waitFor(() => out().split('\n').find(listening) ?? (ended() ? `exited: ${err()}` : undefined), timeoutMs, 'the listening log line');
      if (!listening(line)) throw new Error(`the gateway ${line}`);
      return (JSON.parse(line) as { ports: P }).ports;
    },
    async stop(graceMs = 10_000): Promise<void> {
      if (ended()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill(): Promise<void> {
      if (ended()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
