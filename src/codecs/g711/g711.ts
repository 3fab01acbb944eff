import type { G711Track } from '../../core/track';

/** G.711 is always 8 kHz, mono, one byte per sample. Spec: ITU-T G.711. */
export const G711_SAMPLE_RATE = 8000;
export const G711_CHANNELS = 1;
export const G711_BYTES_PER_SAMPLE = 1;

/** Static RTP payload types. Spec: RFC 3551 §6 Table 4. */
export const RTP_PAYLOAD_TYPE_PCMU = 0;
export const RTP_PAYLOAD_TYPE_PCMA = 8;

/** A G.711 Track value: always ready (no decoder config). */
export function g711Track(id: number, codec: 'g711a' | 'g711u'): G711Track {
  return { id, codec, ready: true, sampleRate: G711_SAMPLE_RATE, channels: G711_CHANNELS };
}

/** Duration of `bytes` G.711 samples in 90 kHz ticks (11.25 ticks per sample, rounded). */
export function g711DurationTicks(bytes: number): number {
  return Math.round((bytes * 90_000) / G711_SAMPLE_RATE);
}
