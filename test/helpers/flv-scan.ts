/**
 * A cheap incremental FLV scanner for load clients: it walks the tag headers (never copying a
 * tag body) until the first video keyframe, then only counts bytes.
 *
 * Spec: Adobe FLV File Format Specification v10.1 §E.2 (header), §E.3 (tags), §E.4.3.1
 * (VIDEODATA: FrameType, CodecID, AVCPacketType); Enhanced RTMP v1 (IsExHeader, PacketType).
 */
import { ParseError } from '../../src/core/errors';

/** Largest tag body we accept before deciding the stream is garbage (FLV sizes are 24-bit). */
export const FLV_SCAN_MAX_TAG_BYTES = 16 * 1024 * 1024;
/** Largest FLV header DataOffset we accept. */
export const FLV_SCAN_MAX_HEADER_BYTES = 1024;

const FLV_HEADER_SIZE = 9;
const TAG_HEADER_SIZE = 11;
const PREVIOUS_TAG_SIZE = 4;
const TAG_VIDEO = 9;

/**
 * True if a video tag body (or RTMP video message body) starting with `b0`, `b1` is a coded
 * keyframe: FrameType 1 and not a sequence header / end of sequence. `b1` may be undefined
 * for a one-byte body.
 */
export function isVideoKeyframe(b0: number, b1: number | undefined): boolean {
  if (b0 & 0x80) {
    // Enhanced RTMP: bit 7 IsExHeader, bits 4-6 FrameType, bits 0-3 PacketType.
    const packetType = b0 & 0x0f;
    return ((b0 >> 4) & 0x07) === 1 && (packetType === 1 || packetType === 3);
  }
  if (b0 >> 4 !== 1) return false;
  const codecId = b0 & 0x0f;
  // AVC (7) and the legacy HEVC id (12) carry AVCPacketType: 1 = NAL units.
  if (codecId === 7 || codecId === 12) return b1 === 1;
  return true;
}

type Phase = 'header' | 'skip' | 'tag' | 'done';

/**
 * Feed it the FLV byte stream in pieces of any size. `keyframeSeen` turns true (and `feed`
 * returns true, once) when the first bytes of a video keyframe tag's body have arrived.
 * Nothing passed to `feed` is kept. Throws ParseError on a bad signature or an absurd size.
 */
export class FlvKeyframeScanner {
  /** Total bytes fed. */
  bytes = 0;
  keyframeSeen = false;
  /** Tags whose header was read before the keyframe (for diagnostics). */
  tagsBeforeKeyframe = 0;
  private phase: Phase = 'header';
  /** Header or tag-header bytes collected so far (tag header + 2 body bytes). */
  private readonly collect = Buffer.alloc(TAG_HEADER_SIZE + 2);
  private collected = 0;
  private want = FLV_HEADER_SIZE;
  private skipLeft = 0;

  feed(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.phase === 'done') return false;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.phase === 'skip') {
        const take = Math.min(this.skipLeft, chunk.length - pos);
        pos += take;
        this.skipLeft -= take;
        if (this.skipLeft === 0) this.startTag();
        continue;
      }
      const take = Math.min(this.want - this.collected, chunk.length - pos);
      chunk.copy(this.collect, this.collected, pos, pos + take);
      this.collected += take;
      pos += take;
      if (this.collected < this.want) return false;
      if (this.phase === 'header') this.onHeader();
      else if (this.onTagStart()) return true;
    }
    return false;
  }

  private startTag(): void {
    this.phase = 'tag';
    this.collected = 0;
    this.want = TAG_HEADER_SIZE;
  }

  private onHeader(): void {
    const c = this.collect;
    if (c[0] !== 0x46 || c[1] !== 0x4c || c[2] !== 0x56) throw new ParseError('FLV: bad signature');
    const dataOffset = c.readUInt32BE(5);
    if (dataOffset < FLV_HEADER_SIZE || dataOffset > FLV_SCAN_MAX_HEADER_BYTES) {
      throw new ParseError(`FLV: header DataOffset ${dataOffset} out of range`);
    }
    this.phase = 'skip';
    this.skipLeft = dataOffset - FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE;
  }

  /** A tag header (plus up to 2 body bytes of a video tag) is in `collect`. */
  private onTagStart(): boolean {
    const c = this.collect;
    const type = c[0]! & 0x1f;
    const size = c.readUIntBE(1, 3);
    if (size > FLV_SCAN_MAX_TAG_BYTES) throw new ParseError(`FLV: tag of ${size} bytes over the cap`);
    if (type === TAG_VIDEO && this.want === TAG_HEADER_SIZE && size > 0) {
      // Read the first body bytes too (FrameType/CodecID and AVCPacketType).
      this.want = TAG_HEADER_SIZE + Math.min(2, size);
      return false;
    }
    const bodyRead = this.want - TAG_HEADER_SIZE;
    if (type === TAG_VIDEO && bodyRead > 0 && isVideoKeyframe(c[TAG_HEADER_SIZE]!, bodyRead > 1 ? c[TAG_HEADER_SIZE + 1] : undefined)) {
      this.keyframeSeen = true;
      this.phase = 'done';
      return true;
    }
    this.tagsBeforeKeyframe++;
    this.phase = 'skip';
    this.skipLeft = size - bodyRead + PREVIOUS_TAG_SIZE;
    if (this.skipLeft === 0) this.startTag();
    return false;
  }
}
