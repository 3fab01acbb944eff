/**
 * The interface between container demuxers (the TS demuxer here, the PS demuxer of rtp/ps) and
 * an elementary-stream consumer (rtp/es's assembler, the tests' PES collectors): demuxers report
 * PES boundaries and payload bytes; the consumer turns them into access units.
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
  /** TS only: random_access_indicator of the packet that started this PES. */
  readonly randomAccess?: boolean;
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

/** A PesStart without absent keys (built per PES: no object spreads on this path). */
export function pesStart(id: number, kind: EsKind, streamType: number | undefined, header: { pts?: number; dts?: number; payloadLength: number }, randomAccess = false): PesStart {
  let pes: PesStart;
  if (header.pts === undefined) pes = { id, kind, streamType };
  else if (header.dts === undefined) pes = { id, kind, streamType, pts: header.pts };
  else pes = { id, kind, streamType, pts: header.pts, dts: header.dts };
  if (header.payloadLength < 0) pes = { ...pes, unbounded: true };
  return randomAccess ? { ...pes, randomAccess } : pes;
}
