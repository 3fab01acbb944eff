/** Codec ids and packet types of FLV tag bodies. Spec: Adobe FLV v10.1 §E.4.2, §E.4.3; Enhanced RTMP v1/v2. */

/** SoundFormat (upper nibble of the audio tag's first byte). */
export const SOUND_FORMAT = {
  PCM_PLATFORM: 0,
  ADPCM: 1,
  MP3: 2,
  PCM_LE: 3,
  NELLYMOSER_16K: 4,
  NELLYMOSER_8K: 5,
  NELLYMOSER: 6,
  G711_ALAW: 7,
  G711_MULAW: 8,
  /** Enhanced RTMP v2: ExAudioTagHeader follows (AudioPacketType in the low nibble, then a FourCC). */
  EX_HEADER: 9,
  AAC: 10,
  SPEEX: 11,
  MP3_8K: 14,
  DEVICE_SPECIFIC: 15,
} as const;

export const AAC_PACKET_SEQUENCE_HEADER = 0;
export const AAC_PACKET_RAW = 1;

/** CodecID (low nibble of the legacy video tag's first byte). */
export const VIDEO_CODEC_ID = {
  SORENSON_H263: 2,
  SCREEN: 3,
  VP6: 4,
  VP6_ALPHA: 5,
  SCREEN_V2: 6,
  AVC: 7,
  /** H.265 in the legacy (Chinese CDN extension) layout: the AVC header with codec id 12. */
  HEVC_LEGACY: 12,
} as const;

/** FrameType (upper nibble, or bits 4..6 of the enhanced header). */
export const VIDEO_FRAME_KEY = 1;
export const VIDEO_FRAME_INTER = 2;
export const VIDEO_FRAME_COMMAND = 5;

export const AVC_PACKET_SEQUENCE_HEADER = 0;
export const AVC_PACKET_NALU = 1;
export const AVC_PACKET_END_OF_SEQUENCE = 2;

/** Enhanced RTMP: bit 7 of the first video byte marks an ExVideoTagHeader. */
export const EX_HEADER_FLAG = 0x80;

/** Enhanced RTMP VideoPacketType / AudioPacketType. */
export const EX_PACKET = {
  SEQUENCE_START: 0,
  CODED_FRAMES: 1,
  SEQUENCE_END: 2,
  /** Video: CodedFrames with an implied composition time of 0. */
  CODED_FRAMES_X: 3,
  METADATA: 4,
  MPEG2TS_SEQUENCE_START: 5,
  MULTITRACK: 6,
  MOD_EX: 7,
} as const;

export const FOURCC_HVC1 = 0x68766331; // 'hvc1'
export const FOURCC_AVC1 = 0x61766331; // 'avc1'
export const FOURCC_MP4A = 0x6d703461; // 'mp4a'

export function fourCcString(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '?');
}
