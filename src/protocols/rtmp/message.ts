/**
 * RTMP message types and the message shape shared by the chunk reader and writer.
 *
 * Spec: RTMP 1.0 §5.4 (protocol control), §6.2 (user control), §7.1 (message types).
 */

import { isVideoTrack, type Track } from '../../core/track';
import { audioSequenceHeaderBody, videoSequenceHeaderBody, type HevcMode } from '../../formats/flv/bodies';

export const MessageType = {
  setChunkSize: 1,
  abort: 2,
  acknowledgement: 3,
  userControl: 4,
  windowAckSize: 5,
  setPeerBandwidth: 6,
  audio: 8,
  video: 9,
  dataAmf3: 15,
  sharedObjectAmf3: 16,
  commandAmf3: 17,
  dataAmf0: 18,
  sharedObjectAmf0: 19,
  commandAmf0: 20,
  aggregate: 22,
} as const;

/** Chunk stream ids we send on (any id works; these are the ones ffmpeg and FMS use). */
export const ChunkStream = {
  /** Spec: RTMP 1.0 §5.4: protocol control messages go on chunk stream 2, message stream 0. */
  control: 2,
  command: 3,
  data: 5,
  audio: 4,
  video: 6,
} as const;

/** One complete RTMP message. */
export interface RtmpMessage {
  readonly chunkStreamId: number;
  readonly typeId: number;
  /** Message stream id (0 for NetConnection and control messages). */
  readonly streamId: number;
  /**
   * Absolute timestamp in ms modulo 2^32 (as on the wire: type-1/2/3 deltas are accumulated;
   * the caller unwraps with `WrapUnwrapper(32)` if it needs a monotonic clock).
   */
  readonly timestamp: number;
  readonly body: Buffer;
}

/** A message to send: the body may be split in parts (an FLV tag header and frame units). */
export interface OutgoingMessage {
  readonly chunkStreamId: number;
  readonly typeId: number;
  readonly streamId: number;
  /** ms; reduced modulo 2^32 when written. */
  readonly timestamp: number;
  readonly body: readonly Buffer[];
}

/**
 * One message per ready track carrying its FLV sequence header (AVC/HEVC config record, AAC
 * AudioSpecificConfig), at `ms`: what a player or a CDN needs before the first frame. Tracks
 * without one (G.711) are skipped. Shared by server play and the push client.
 */
export function sequenceHeaderMessages(tracks: readonly Track[], streamId: number, ms: number, hevcMode: HevcMode): OutgoingMessage[] {
  const messages: OutgoingMessage[] = [];
  for (const track of tracks) {
    const video = isVideoTrack(track);
    const body = video ? videoSequenceHeaderBody(track, hevcMode) : audioSequenceHeaderBody(track);
    if (!body) continue;
    messages.push({
      chunkStreamId: video ? ChunkStream.video : ChunkStream.audio,
      typeId: video ? MessageType.video : MessageType.audio,
      streamId,
      timestamp: ms,
      body: [body],
    });
  }
  return messages;
}
