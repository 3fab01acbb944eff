import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** ffmpeg and ffprobe from npm (@ffmpeg-installer, @ffprobe-installer), else from PATH. */
function resolveTool(pkg: string, fallback: string): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const path = (require(pkg) as { path: string }).path;
    if (existsSync(path)) return path;
  } catch {
    // not installed: fall back to the system binary
  }
  return fallback;
}

export const ffmpegPath = process.env.FFMPEG_PATH ?? resolveTool('@ffmpeg-installer/ffmpeg', 'ffmpeg');
export const ffprobePath = process.env.FFPROBE_PATH ?? resolveTool('@ffprobe-installer/ffprobe', 'ffprobe');

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion with a hard timeout; never rejects (the caller asserts on the result). */
export function runTool(path: string, args: string[], timeoutMs = 30_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(path, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const raw: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof raw === 'number' ? raw : 1, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export interface ProbeStream {
  index: number;
  codec_type: 'video' | 'audio' | 'data';
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_read_frames?: string;
  nb_read_packets?: string;
}

export interface ProbePacket {
  stream_index: number;
  pts?: number;
  dts?: number;
  pts_time?: string;
  dts_time?: string;
  size: string;
  flags: string;
}

/** ffprobe -show_streams (and optionally -count_frames / -show_packets) as JSON. */
export async function ffprobeJson(
  input: string,
  extraArgs: string[] = [],
  timeoutMs = 30_000,
): Promise<{ streams: ProbeStream[]; packets?: ProbePacket[]; stderr: string; code: number | null }> {
  const result = await runTool(ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_streams', ...extraArgs, input], timeoutMs);
  let parsed: { streams?: ProbeStream[]; packets?: ProbePacket[] } = {};
  try {
    parsed = JSON.parse(result.stdout) as typeof parsed;
  } catch {
    // leave empty: the caller sees no streams and the stderr
  }
  return { streams: parsed.streams ?? [], packets: parsed.packets, stderr: result.stderr, code: result.code };
}

/** Starts a long-running tool (an ffmpeg publisher). The caller must call `stop()`. */
export function startTool(path: string, args: string[]): { child: ChildProcess; stderr: () => string; stop: () => Promise<void> } {
  const child = spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    child.once('exit', () => resolve());
  });
  return {
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
