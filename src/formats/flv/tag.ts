/**
 * FLV file header and tag framing. Tag bodies (built in ./bodies) are shared between viewers;
 * only the 11-byte tag header and the 4-byte PreviousTagSize are per viewer.
 * Spec: Adobe FLV File Format Specification v10.1 §E.2 (header), §E.3 (body), §E.4.1 (tags).
 */

export const FLV_TAG_AUDIO = 8;
export const FLV_TAG_VIDEO = 9;
export const FLV_TAG_SCRIPT = 18;
export type FlvTagType = typeof FLV_TAG_AUDIO | typeof FLV_TAG_VIDEO | typeof FLV_TAG_SCRIPT;

export const FLV_HEADER_SIZE = 9;
export const FLV_TAG_HEADER_SIZE = 11;
export const FLV_PREVIOUS_TAG_SIZE_SIZE = 4;
/** The DataSize field is 24 bits. */
export const FLV_MAX_TAG_BODY_SIZE = 0xffffff;

/** The 9-byte FLV header followed by PreviousTagSize0 (0): 13 bytes. */
export function flvFileHeader(flags: { hasVideo: boolean; hasAudio: boolean }): Buffer {
  const out = Buffer.alloc(FLV_HEADER_SIZE + FLV_PREVIOUS_TAG_SIZE_SIZE);
  out.write('FLV', 0, 'latin1');
  out[3] = 1; // version
  out[4] = (flags.hasAudio ? 0x04 : 0) | (flags.hasVideo ? 0x01 : 0);
  out.writeUInt32BE(FLV_HEADER_SIZE, 5);
  return out;
}

/**
 * One FLV tag as [tag header, ...body, PreviousTagSize]: the body Buffers are returned as given
 * (shared, not copied). The timestamp (ms) is written modulo 2^32, its top byte in
 * TimestampExtended. Throws a RangeError if the body exceeds 2^24 - 1 bytes.
 */
export function flvTag(type: FlvTagType, timestampMs: number, body: readonly Buffer[]): Buffer[] {
  let size = 0;
  for (const part of body) size += part.length;
  if (size > FLV_MAX_TAG_BODY_SIZE) throw new RangeError(`FLV tag body of ${size} bytes exceeds ${FLV_MAX_TAG_BODY_SIZE}`);
  // One allocation for both the header and the trailer.
  const frame = Buffer.allocUnsafe(FLV_TAG_HEADER_SIZE + FLV_PREVIOUS_TAG_SIZE_SIZE);
  writeTagHeader(frame, type, timestampMs, size);
  frame.writeUInt32BE(FLV_TAG_HEADER_SIZE + size, FLV_TAG_HEADER_SIZE);
  return [frame.subarray(0, FLV_TAG_HEADER_SIZE), ...body, frame.subarray(FLV_TAG_HEADER_SIZE)];
}

/** Writes an 11-byte tag header at offset 0 of `out`. */
export function writeTagHeader(out: Buffer, type: FlvTagType, timestampMs: number, dataSize: number): void {
  const ts = Math.round(timestampMs) >>> 0;
  out[0] = type;
  out.writeUIntBE(dataSize, 1, 3);
  out.writeUIntBE(ts & 0xffffff, 4, 3);
  out[7] = ts >>> 24; // TimestampExtended
  out.writeUIntBE(0, 8, 3); // StreamID
}
