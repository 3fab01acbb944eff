import { GatewayError } from '../../src/core/errors';

/**
 * GB28181 SSRCs: 10 decimal digits, `0` (live) or `1` (playback) + digits 4-8 of the SIP domain +
 * a 4-digit sequence. The sequence is allocated with in-use tracking so two live dialogs never
 * share one; a device that answers with its own y= has that value tracked too.
 * Spec: GB/T 28181-2016 Annex F
 */
export class SsrcAllocator {
  private readonly inUse = new Set<string>();
  private readonly prefixDigits: string;
  private next = 0;

  constructor(domain: string) {
    if (!/^\d{10}$/.test(domain)) throw new GatewayError('CONFIG_INVALID', `SIP domain ${domain} is not 10 digits`);
    this.prefixDigits = domain.slice(3, 8);
  }

  /** A free SSRC for a live (`0`) or playback (`1`) session; throws when all 10 000 are taken. */
  allocate(kind: 'live' | 'playback' = 'live'): string {
    const prefix = `${kind === 'live' ? '0' : '1'}${this.prefixDigits}`;
    for (let i = 0; i < 10_000; i++) {
      const seq = (this.next + i) % 10_000;
      const ssrc = `${prefix}${String(seq).padStart(4, '0')}`;
      if (!this.inUse.has(ssrc)) {
        this.inUse.add(ssrc);
        this.next = (seq + 1) % 10_000;
        return ssrc;
      }
    }
    throw new GatewayError('SOURCE_START_FAILED', 'all 10000 SSRCs of this domain are in use');
  }

  /** Tracks an SSRC chosen by a device (its own y=); false if another dialog already uses it. */
  claim(ssrc: string): boolean {
    if (this.inUse.has(ssrc)) return false;
    this.inUse.add(ssrc);
    return true;
  }

  release(ssrc: string): void {
    this.inUse.delete(ssrc);
  }

  isInUse(ssrc: string): boolean {
    return this.inUse.has(ssrc);
  }

  get size(): number {
    return this.inUse.size;
  }
}

/** The 32-bit RTP SSRC value of a decimal y= string; undefined when it does not fit. */
export function ssrcNumber(ssrc: string): number | undefined {
  if (!/^\d{1,10}$/.test(ssrc)) return undefined;
  const n = Number(ssrc);
  return n <= 0xffffffff ? n : undefined;
}
