/**
 * G.711 decoding for the page (browsers' FLV players cannot decode it): one 256-entry table per
 * law from code byte to linear sample, and the reader of the gateway's audio feed messages
 * (src/protocols/ws-audio/message.ts). Pure: no DOM, so the tests run it in Node.
 * Spec: ITU-T G.711 (1988) Tables 1a/1b (A-law) and 2a/2b (µ-law).
 */

export type G711Law = 'alaw' | 'ulaw';

/** The 16-bit linear value of A-law code `code` (even bits inverted on the line). */
export function alawToLinear(code: number): number {
  const value = code ^ 0x55;
  const segment = (value & 0x70) >> 4;
  let magnitude = (value & 0x0f) << 4;
  if (segment === 0) magnitude += 8;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return value & 0x80 ? magnitude : -magnitude;
}

/** The 16-bit linear value of µ-law code `code` (all bits inverted on the line, bias 0x84). */
export function ulawToLinear(code: number): number {
  const value = ~code & 0xff;
  const magnitude = (((value & 0x0f) << 3) + 0x84) << ((value & 0x70) >> 4);
  return value & 0x80 ? 0x84 - magnitude : magnitude - 0x84;
}

function table(toLinear: (code: number) => number): Float32Array {
  const out = new Float32Array(256);
  for (let code = 0; code < 256; code++) out[code] = toLinear(code) / 32768;
  return out;
}

/** Code byte to sample in [-1, 1), per law: what WebAudio buffers hold. */
export const G711_TABLES: Readonly<Record<G711Law, Float32Array>> = { alaw: table(alawToLinear), ulaw: table(ulawToLinear) };

/** Decodes `codes` into `out` (same length or longer) and returns the samples written. */
export function decodeG711(codes: Uint8Array, law: G711Law, out: Float32Array = new Float32Array(codes.length)): Float32Array {
  const lookup = G711_TABLES[law];
  const n = Math.min(codes.length, out.length);
  for (let i = 0; i < n; i++) out[i] = lookup[codes[i]!]!;
  return out.subarray(0, n);
}

/** Message kind 1: one G.711 frame. */
const KIND_G711 = 1;
const HEADER_BYTES = 10;
/** A frame longer than this (1 s at 8 kHz) is not what a camera sends: refused. */
export const MAX_FRAME_SAMPLES = 8000;

export interface AudioFrameMessage {
  law: G711Law;
  /** The frame's dts on the stream clock, 90 kHz ticks (the video's FLV ms are dts / 90). */
  dts: number;
  codes: Uint8Array;
}

/** One binary message of `/ws-audio/{app}/{stream}`, or null when it is not a G.711 frame. */
export function parseAudioMessage(data: ArrayBuffer): AudioFrameMessage | null {
  if (data.byteLength < HEADER_BYTES + 1 || data.byteLength > HEADER_BYTES + MAX_FRAME_SAMPLES) return null;
  const view = new DataView(data);
  if (view.getUint8(0) !== KIND_G711) return null;
  const payloadType = view.getUint8(1);
  // Spec: RFC 3551 §6 Table 4 (PT 0 PCMU, PT 8 PCMA).
  const law: G711Law | undefined = payloadType === 8 ? 'alaw' : payloadType === 0 ? 'ulaw' : undefined;
  const dts = view.getFloat64(2);
  if (!law || !Number.isFinite(dts) || dts < 0) return null;
  return { law, dts, codes: new Uint8Array(data, HEADER_BYTES) };
}
