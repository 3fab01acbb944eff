/** MPEG-2 transport stream constants. Spec: ISO/IEC 13818-1 §2.4.3, §2.4.4, Table 2-34. */

export const TS_PACKET_SIZE = 188;
export const TS_HEADER_SIZE = 4;
export const TS_PAYLOAD_SIZE = TS_PACKET_SIZE - TS_HEADER_SIZE;
export const TS_SYNC_BYTE = 0x47;

export const PID_PAT = 0x0000;
export const PID_NULL = 0x1fff;
/** PIDs this muxer uses (the values ffmpeg and most servers pick, so captures look familiar). */
export const PID_PMT = 0x1000;
export const PID_VIDEO = 0x0100;
export const PID_AUDIO = 0x0101;

export const PROGRAM_NUMBER = 1;
export const TRANSPORT_STREAM_ID = 1;

export const TABLE_ID_PAT = 0x00;
export const TABLE_ID_PMT = 0x02;

/**
 * stream_type values (the one table of the project: TS muxer, TS and PS demuxers). Spec:
 * ISO/IEC 13818-1 Table 2-34; H.265 from Amd. 3 (0x24); 0x90/0x91 are GB/T 28181-2016 Annex C.
 */
export const STREAM_TYPE = {
  MPEG1_AUDIO: 0x03,
  MPEG2_AUDIO: 0x04,
  AAC_ADTS: 0x0f,
  AAC_LATM: 0x11,
  H264: 0x1b,
  AAC_RAW: 0x1c,
  H265: 0x24,
  G711A: 0x90,
  G711U: 0x91,
} as const;

/** PES stream_id for the first video / audio stream. Spec: ISO/IEC 13818-1 Table 2-22. */
export const STREAM_ID_VIDEO = 0xe0;
export const STREAM_ID_AUDIO = 0xc0;

/** 33-bit PTS/DTS/PCR base clock. */
export const TIMESTAMP_MODULUS = 2 ** 33;
