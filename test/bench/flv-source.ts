/**
 * The bench source as FLV tags in memory (read once with the project's FLV demuxer): what the
 * Node publisher sends one message per frame and what the relay ceiling writes.
 */
import { readFileSync } from 'node:fs';
import { decodeAmf0, amf0Properties, type Amf0Value } from '../../src/formats/amf0/amf0';
import { FlvDemuxer } from '../../src/formats/flv/demuxer';
import { FLV_TAG_AUDIO, FLV_TAG_SCRIPT, FLV_TAG_VIDEO } from '../../src/formats/flv/tag';

export interface SourceTag {
  readonly type: typeof FLV_TAG_AUDIO | typeof FLV_TAG_VIDEO;
  readonly timestampMs: number;
  readonly body: Buffer;
  readonly keyframe: boolean;
}

export interface FlvSource {
  /** onMetaData's properties, if the file has one. */
  readonly metadata: Record<string, Amf0Value> | undefined;
  /** AVC and AAC sequence headers (sent once, before the first frame). */
  readonly headers: readonly SourceTag[];
  /** Coded frames in file order. */
  readonly frames: readonly SourceTag[];
  /** One pass through the file, ms: a loop adds this to every timestamp. */
  readonly durationMs: number;
}

/** AVCPacketType / AACPacketType 0 is a sequence header. Spec: FLV v10.1 §E.4.2.1, §E.4.3.1. */
function isSequenceHeader(type: number, body: Buffer): boolean {
  return body.length >= 2 && body[1] === 0 && (type === FLV_TAG_VIDEO ? (body[0]! & 0x0f) === 7 : body[0]! >> 4 === 10);
}

export function loadFlvSource(path: string): FlvSource {
  const tags = new FlvDemuxer().feed(readFileSync(path));
  let metadata: Record<string, Amf0Value> | undefined;
  const headers: SourceTag[] = [];
  const frames: SourceTag[] = [];
  for (const tag of tags) {
    if (tag.type === FLV_TAG_SCRIPT) {
      const [name, value] = decodeAmf0(tag.body);
      if (name === 'onMetaData') metadata = amf0Properties(value ?? null);
      continue;
    }
    const keyframe = tag.type === FLV_TAG_VIDEO && tag.body[0]! >> 4 === 1;
    const entry: SourceTag = { type: tag.type, timestampMs: tag.timestampMs, body: tag.body, keyframe };
    (isSequenceHeader(tag.type, tag.body) ? headers : frames).push(entry);
  }
  const video = frames.filter((f) => f.type === FLV_TAG_VIDEO);
  const step = video.length > 1 ? (video[video.length - 1]!.timestampMs - video[0]!.timestampMs) / (video.length - 1) : 40;
  const last = frames.reduce((max, f) => Math.max(max, f.timestampMs), 0);
  return { metadata, headers, frames, durationMs: Math.round(last + step) };
}
