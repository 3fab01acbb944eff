/**
 * The interface between container demuxers (PS, TS) and the elementary-stream assembler:
 * demuxers report PES boundaries and payload bytes; the assembler turns them into access units.
 */

export type EsKind = 'video' | 'audio';

/** A stream announced by a PSM (PS) or PMT (TS). */
export interface EsStreamDecl {
  /** PS stream_id, or TS elementary PID. */
  readonly id: number;
  readonly kind: EsKind;
  readonly streamType: number;
}

/** The start of one PES packet. Timestamps are raw 33-bit 90 kHz values. */
export interface PesStart {
  readonly id: number;
  readonly kind: EsKind;
  /** From the PSM/PMT, when one has been seen. */
  readonly streamType: number | undefined;
  readonly pts?: number;
  readonly dts?: number;
  /** PES_packet_length was 0: the payload runs to the next start code (PS) or PES (TS). */
  readonly unbounded?: boolean;
}

export interface EsSink {
  onStreams(streams: readonly EsStreamDecl[]): void;
  onPesStart(pes: PesStart): void;
  /**
   * Payload bytes of the current PES of stream `id`: a subarray of the demuxer's input, which
   * the sink may keep (the demuxer never writes into its input).
   */
  onPesData(id: number, data: Buffer): void;
  /** The PES is complete (its length was reached, or the next start code ended it). */
  onPesEnd(id: number): void;
  /** Data was lost: partial PES and access units must be dropped, never emitted. */
  onDiscontinuity(): void;
}

/** Stream types. Spec: ISO/IEC 13818-1 Table 2-34; 0x90/0x91 are GB/T 28181-2016 Annex C. */
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

/** A PesStart without absent keys (built per PES: no object spreads on this path). */
export function pesStart(
  id: number,
  kind: EsKind,
  streamType: number | undefined,
  header: { pts?: number; dts?: number; payloadLength: number },
): PesStart {
  let pes: PesStart;
  if (header.pts === undefined) pes = { id, kind, streamType };
  else if (header.dts === undefined) pes = { id, kind, streamType, pts: header.pts };
  else pes = { id, kind, streamType, pts: header.pts, dts: header.dts };
  return header.payloadLength < 0 ? { ...pes, unbounded: true } : pes;
}
