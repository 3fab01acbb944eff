import type { Frame } from '../../core/frame';
import { RTP_PAYLOAD_TYPE_PCMA, RTP_PAYLOAD_TYPE_PCMU } from '../../codecs/g711/g711';

/**
 * The audio feed's wire format: one binary WebSocket message per G.711 access unit, read by
 * web/src/player/g711-audio.ts. Byte 0 is the message kind, byte 1 the law as its static RTP
 * payload type (0 µ-law, 8 A-law; Spec: RFC 3551 §6 Table 4), bytes 2-9 the frame's dts in
 * 90 kHz ticks (float64 big-endian: exact up to 2^53, and the same stream clock the FLV tags of
 * the video carry as dts / 90 ms), then the samples as the camera sent them.
 */
export const AUDIO_MESSAGE_G711 = 1;
export const AUDIO_HEADER_BYTES = 10;

export type G711Codec = 'g711a' | 'g711u';

export function lawByte(codec: G711Codec): number {
  return codec === 'g711a' ? RTP_PAYLOAD_TYPE_PCMA : RTP_PAYLOAD_TYPE_PCMU;
}

/** One G.711 frame's message: header and samples, copied once into one Buffer. */
export function audioMessage(frame: Pick<Frame, 'dts' | 'units'>, codec: G711Codec): Buffer {
  let length = AUDIO_HEADER_BYTES;
  for (const unit of frame.units) length += unit.length;
  const message = Buffer.allocUnsafe(length);
  message[0] = AUDIO_MESSAGE_G711;
  message[1] = lawByte(codec);
  message.writeDoubleBE(frame.dts, 2);
  let offset = AUDIO_HEADER_BYTES;
  for (const unit of frame.units) offset += unit.copy(message, offset);
  return message;
}

/** The first (text) message: which law follows, so the page can say what it plays. */
export interface AudioStartMessage {
  type: 'start';
  path: string;
  codec: G711Codec;
  sampleRate: 8000;
}
