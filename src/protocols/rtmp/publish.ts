/**
 * RTMP publish: audio/video/aggregate messages (FLV tag bodies) to hub frames, through the
 * FLV ingest (formats/flv/ingest.ts) that the pull clients use too.
 */
import { parseAssert } from '../../core/errors';
import { FlvIngest } from '../../formats/flv/ingest';
import { MessageType } from './message';

export { tracksFromMetadata } from '../../formats/flv/ingest';

/** One FLV tag inside an aggregate message. Spec: RTMP 1.0 §7.1.6 */
export interface AggregatePart {
  readonly typeId: number;
  /** Absolute ms: the aggregate's timestamp plus the part's offset from the first part. */
  readonly timestamp: number;
  readonly body: Buffer;
}

const FLV_TAG_HEADER = 11;
const MAX_AGGREGATE_PARTS = 4096;

/**
 * Splits an aggregate message into its FLV tags (header, body, back pointer). The bodies are
 * views of `body`. Throws ParseError on a malformed aggregate.
 */
export function splitAggregate(body: Buffer, timestamp: number): AggregatePart[] {
  const parts: AggregatePart[] = [];
  let pos = 0;
  let first: number | undefined;
  while (pos < body.length) {
    parseAssert(body.length - pos >= FLV_TAG_HEADER, 'RTMP aggregate: truncated tag header');
    parseAssert(parts.length < MAX_AGGREGATE_PARTS, 'RTMP aggregate: too many parts');
    const typeId = body[pos]! & 0x1f;
    const size = body.readUIntBE(pos + 1, 3);
    const ts = (body.readUIntBE(pos + 4, 3) | (body[pos + 7]! << 24)) >>> 0;
    const start = pos + FLV_TAG_HEADER;
    parseAssert(start + size <= body.length, 'RTMP aggregate: truncated tag body');
    first ??= ts;
    parts.push({ typeId, timestamp: (timestamp + ts - first + 2 ** 32) % 2 ** 32, body: body.subarray(start, start + size) });
    pos = Math.min(body.length, start + size + 4); // skip the previous-tag-size back pointer
  }
  return parts;
}

/**
 * One publisher's media messages to the hub: aggregate messages are split into their tags,
 * every audio/video body goes through the FLV ingest.
 */
export class RtmpIngest extends FlvIngest {
  /** Handles an audio (8), video (9) or aggregate (22) message. */
  override media(typeId: number, timestamp: number, body: Buffer): void {
    if (typeId !== MessageType.aggregate) {
      super.media(typeId, timestamp, body);
      return;
    }
    this.addBytesIn(body.length);
    let parts: AggregatePart[];
    try {
      parts = splitAggregate(body, timestamp);
    } catch (err) {
      this.dropped(err);
      return;
    }
    for (const part of parts) {
      if (part.typeId === MessageType.audio || part.typeId === MessageType.video) this.decode(part.typeId, part.timestamp, part.body);
    }
  }
}
