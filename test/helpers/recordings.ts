import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ffmpegPath, ffprobeJson, ffprobePath, runTool } from './media-tools';
import type { TestGateway } from './gateway';

export interface RecordingJson {
  id: number;
  path: string;
  format: 'flv' | 'ts' | 'hls';
  file: string;
  start: string;
  end: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  bytes: number;
  videoCodec: string | null;
  audioCodec: string | null;
  width: number | null;
  height: number | null;
  keyframes: number;
  status: string;
  planId: string | null;
  reason: string;
}

export async function listRecordings(gw: TestGateway, path: string, extra = ''): Promise<{ recordings: RecordingJson[]; total: number }> {
  const res = await fetch(`${gw.httpUrl}/api/recordings?path=${encodeURIComponent(path)}&start=0&count=1000${extra}`, { headers: gw.authHeaders });
  if (res.status !== 200) throw new Error(`GET /api/recordings: ${res.status} ${await res.text()}`);
  return (await res.json()) as { recordings: RecordingJson[]; total: number };
}

export function recordDir(gw: TestGateway): string {
  return gw.config.record.dir || join(gw.config.storage.dir, 'record');
}

export interface SegmentProbe {
  /** ffmpeg -v error decode of the whole file: empty when it decodes silently. */
  decodeErrors: string;
  /** ffprobe -v error output. */
  probeErrors: string;
  codecs: string[];
  /** Flags of the first video packet ('K_' for a keyframe). */
  firstVideoFlags: string | undefined;
  /** Seconds from the first to the last video (or audio) packet, plus one frame. */
  mediaSeconds: number;
  videoPts: number[];
  fileBytes: number;
}

/** Decodes a recorded segment fully and reads its packets. */
export async function probeSegment(file: string): Promise<SegmentProbe> {
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-'], 60_000);
  const probe = await ffprobeJson(file, ['-show_packets'], 60_000);
  const videoIndex = probe.streams.find((s) => s.codec_type === 'video')?.index;
  const clockIndex = videoIndex ?? probe.streams[0]?.index;
  const packets = (probe.packets ?? []).filter((p) => p.stream_index === clockIndex);
  const times = packets.map((p) => Number(p.pts_time ?? p.dts_time)).filter((t) => Number.isFinite(t));
  const step = times.length > 1 ? (times.at(-1)! - times[0]!) / (times.length - 1) : 0;
  return {
    decodeErrors: decode.stderr.trim(),
    probeErrors: probe.stderr.trim(),
    codecs: probe.streams.map((s) => s.codec_name),
    firstVideoFlags: videoIndex === undefined ? undefined : packets[0]?.flags,
    mediaSeconds: times.length ? Math.max(...times) - Math.min(...times) + step : 0,
    videoPts: times,
    fileBytes: statSync(file).size,
  };
}

/** ffprobe of a playlist or file: stderr (empty when clean). */
export async function probeErrors(input: string): Promise<string> {
  const r = await runTool(ffprobePath, ['-v', 'error', '-show_streams', input], 60_000);
  return r.stderr.trim();
}
