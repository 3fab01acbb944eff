import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ffmpegPath, startTool } from './media-tools';
import { testPatternArgs } from './publisher';
import type { ChildConfig } from './rtsp-server-child';

/**
 * A real third-party RTSP server (see rtsp-server-child.ts) on 127.0.0.1, in a child process
 * the test can kill and restart on the same ports, and an ffmpeg that publishes into it.
 */
export interface RtspTestServer {
  readonly kind: ChildConfig['kind'];
  readonly publishPort: number;
  readonly playPort: number;
  /** The server process (for CPU accounting in the bench). */
  readonly pid: number;
  /** Where ffmpeg publishes `path` (ANNOUNCE/RECORD). */
  publishUrl(path: string): string;
  /** Where a client plays `path`, with credentials in the URL when given. */
  playUrl(path: string, credentials?: { username: string; password: string }): string;
  /** SIGKILL, as a crash or a power cut would. */
  kill(): Promise<void>;
  /** Starts it again on the same ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const CHILD = join(__dirname, 'rtsp-server-child.js');
const READY_TIMEOUT_MS = 10_000;

function launch(config: ChildConfig): Promise<{ child: ChildProcess; publishPort: number; playPort: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${config.kind} did not start within ${READY_TIMEOUT_MS} ms: ${err.slice(-2000)}`));
    }, READY_TIMEOUT_MS);
    child.stderr!.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-8000);
    });
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const line = /^READY (.*)$/m.exec(out);
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      const ports = JSON.parse(line[1]!) as { publishPort: number; playPort: number };
      resolve({ child, ...ports });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${config.kind} exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

async function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

export async function startRtspServer(kind: ChildConfig['kind'], options: { auth?: ChildConfig['auth'] } = {}): Promise<RtspTestServer> {
  // rtsp-streaming-server hands out UDP ports from a fixed range: pick one away from others'.
  const rtpPortStart = 20_000 + 2 * Math.floor(Math.random() * 10_000);
  const config: ChildConfig = { kind, publishPort: 0, playPort: 0, rtpPortStart, ...(options.auth ? { auth: options.auth } : {}) };
  let running = await launch(config);
  config.publishPort = running.publishPort;
  config.playPort = running.playPort;
  return {
    kind,
    publishPort: running.publishPort,
    playPort: running.playPort,
    get pid() {
      return running.child.pid ?? -1;
    },
    publishUrl: (path) => `rtsp://127.0.0.1:${config.publishPort}/${path}`,
    playUrl: (path, credentials) => {
      const user = credentials ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@` : '';
      return `rtsp://${user}127.0.0.1:${config.playPort}/${path}`;
    },
    kill: () => killChild(running.child, 'SIGKILL'),
    async restart() {
      await killChild(running.child, 'SIGKILL');
      running = await launch(config);
    },
    stop: () => killChild(running.child, 'SIGTERM'),
  };
}

export interface PublisherOptions {
  /** RTSP transport ffmpeg publishes with (rtsp-streaming-server takes UDP only). */
  transport: 'udp' | 'tcp';
  /** aac (44.1 kHz), pcma (G.711 A-law at 8 kHz, what cameras send) or none. */
  audio?: 'aac' | 'pcma' | 'none';
  /** h264 (default) or h265 (x265, no B-frames). */
  video?: 'h264' | 'h265';
  size?: string;
  fps?: number;
}

/** ffmpeg publishing a test pattern (H.264 + AAC unless told otherwise) in real time until stopped. */
export function startRtspPublisher(url: string, options: PublisherOptions): ReturnType<typeof startTool> {
  const audio = { aac: 'aac', pcma: 'pcm_alaw', none: false } as const;
  // ffmpeg 4.1 packs H.265 into RTP only as an experimental feature.
  const experimental = options.video === 'h265' ? ['-strict', 'experimental'] : [];
  const args = testPatternArgs(url, {
    size: options.size ?? '320x240',
    rate: options.fps ?? 25,
    video: options.video ?? 'h264',
    audio: audio[options.audio ?? 'aac'],
    channels: 1,
    ...(options.audio === 'pcma' ? {} : { audioBitrate: '64k' }),
    zeroLatency: true,
    bframes: 0,
    // `info` so that waitForPublishing can see the output header, written once RECORD succeeded.
    logLevel: 'info',
    format: 'rtsp',
    outputOptions: [...experimental, '-rtsp_transport', options.transport],
  });
  return startTool(ffmpegPath, args);
}

/** Resolves once ffmpeg finished ANNOUNCE/SETUP/RECORD (it prints the output header then). */
export async function waitForPublishing(tool: ReturnType<typeof startTool>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!/Output #0, rtsp/.test(tool.stderr())) {
    if (tool.child.exitCode !== null) throw new Error(`ffmpeg exited: ${tool.stderr().slice(-1500)}`);
    if (Date.now() > deadline) throw new Error(`ffmpeg did not start publishing: ${tool.stderr().slice(-1500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
