/** Codecs the hub carries. Everything else is refused (or skipped, counted) at the source. */
export type VideoCodec = 'h264' | 'h265';
export type AudioCodec = 'aac' | 'g711a' | 'g711u';
export type Codec = VideoCodec | AudioCodec;

export function isVideoCodec(codec: Codec): codec is VideoCodec {
  return codec === 'h264' || codec === 'h265';
}
