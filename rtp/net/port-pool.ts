/**
 * Even RTP ports from `rtp.portMin`..`rtp.portMax` (each allocation also reserves port + 1 for
 * RTCP). Allocation goes round-robin so that a port just released is reused last: a device
 * still sending to an old stream's port then hits a closed port, not a new stream.
 */
export class PortPool {
  private readonly first: number;
  private readonly count: number;
  private readonly used = new Set<number>();
  private next = 0;

  constructor(min: number, max: number) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65_535 || min > max) {
      throw new RangeError(`bad RTP port range ${min}..${max}`);
    }
    this.first = min % 2 === 0 ? min : min + 1;
    // the last even port needs its odd partner inside the range
    const lastEven = max % 2 === 0 ? max - 2 : max - 1;
    this.count = lastEven >= this.first ? (lastEven - this.first) / 2 + 1 : 0;
    if (this.count === 0) throw new RangeError(`RTP port range ${min}..${max} holds no even/odd pair`);
  }

  get size(): number {
    return this.count;
  }

  get inUse(): number {
    return this.used.size;
  }

  /** The next free even port, or undefined when the pool is exhausted. */
  allocate(): number | undefined {
    for (let i = 0; i < this.count; i++) {
      const port = this.first + ((this.next + i) % this.count) * 2;
      if (!this.used.has(port)) {
        this.used.add(port);
        this.next = (this.next + i + 1) % this.count;
        return port;
      }
    }
    return undefined;
  }

  /** Takes a specific port out of the pool (a caller asked for it). False if taken or outside. */
  reserve(port: number): boolean {
    if (port < this.first || port % 2 !== 0 || (port - this.first) / 2 >= this.count || this.used.has(port)) return false;
    this.used.add(port);
    return true;
  }

  release(port: number): void {
    this.used.delete(port);
  }

  isUsed(port: number): boolean {
    return this.used.has(port);
  }
}
