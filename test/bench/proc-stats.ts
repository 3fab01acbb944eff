/**
 * Process and machine accounting from Linux /proc: CPU seconds (utime + stime of a whole
 * process, all its threads) and resident memory.
 *
 * Spec: proc(5): /proc/PID/stat fields 14 (utime) and 15 (stime) in clock ticks,
 * /proc/PID/status VmRSS in kB, /proc/stat "cpu" line in clock ticks.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** sysconf(_SC_CLK_TCK), 100 on every Linux we run on when getconf is missing. */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a process in seconds, or undefined once it is gone. */
export function processCpuSeconds(pid: number, hz: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / hz : undefined;
}

/** A process and all its descendants (/proc/PID/task/TID/children), the process first. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number): void => {
    if (out.length > 256) return;
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${tid}/children`, 'latin1');
      } catch {
        continue;
      }
      for (const child of children.split(' ').filter(Boolean)) visit(Number(child));
    }
  };
  visit(pid);
  return out;
}

/** utime + stime of a process and its descendants (worker processes), in seconds. */
export function processTreeCpuSeconds(pid: number, hz: number): number | undefined {
  const tree = processTree(pid);
  let total = 0;
  for (const p of tree) {
    const cpu = processCpuSeconds(p, hz);
    if (cpu === undefined && p === pid) return undefined;
    total += cpu ?? 0;
  }
  return total;
}

/** VmRSS of a process and its descendants, in KiB. */
export function processTreeRssKb(pid: number): number | undefined {
  const tree = processTree(pid);
  let total = 0;
  for (const p of tree) {
    const rss = processRssKb(p);
    if (rss === undefined && p === pid) return undefined;
    total += rss ?? 0;
  }
  return total;
}

/** VmRSS of a process in KiB, or undefined once it is gone. */
export function processRssKb(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * Bytes a process has read and written through read()/write() (`rchar`/`wchar` of
 * /proc/PID/io): a libuv server's socket traffic (libuv uses read/writev on TCP); not what
 * send()/recv() move (ffmpeg), so not usable for the publisher.
 */
export function processIoBytes(pid: number): { read: number; written: number; writeCalls: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'latin1');
    const read = /^rchar:\s+(\d+)/m.exec(text);
    const written = /^wchar:\s+(\d+)/m.exec(text);
    // syscw: write, writev, send ... calls (each writev once, whatever its iovec count).
    const writeCalls = /^syscw:\s+(\d+)/m.exec(text);
    return read && written ? { read: Number(read[1]), written: Number(written[1]), writeCalls: Number(writeCalls?.[1] ?? NaN) } : undefined;
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine (all cores, everything but idle and iowait). */
export function machineBusySeconds(hz: number): number {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = ticks.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / hz;
}

/**
 * Waits until the rest of the machine (everything but this process) has used less than
 * `maxPercent` of one core over a `sampleMs` sample, or `maxWaitMs` has passed. Returns the
 * last sample's percentage: the caller reports it.
 */
export async function waitForQuietMachine(hz: number, maxPercent: number, maxWaitMs: number, sampleMs = 2000): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const ownBefore = process.cpuUsage();
    const before = machineBusySeconds(hz);
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const own = process.cpuUsage(ownBefore);
    const busy = machineBusySeconds(hz) - before - (own.user + own.system) / 1e6;
    const percent = (busy / (sampleMs / 1000)) * 100;
    if (percent < maxPercent || Date.now() >= deadline) return percent;
  }
}

/**
 * Machine-wide TcpExt ListenOverflows (a full accept queue: a SYN or final ACK dropped, the
 * client retries after 1, 3, 7 ... s). Spec: /proc/net/netstat (Linux SNMP MIB).
 */
export function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'latin1').split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (!lines[i]!.startsWith('TcpExt:')) continue;
    const names = lines[i]!.split(' ');
    const values = lines[i + 1]!.split(' ');
    const at = names.indexOf('ListenOverflows');
    return at > 0 ? Number(values[at]) : NaN;
  }
  return NaN;
}

/** Samples a process's VmRSS on a timer and keeps the peak. */
export class RssSampler {
  peakKb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    const rss = processTreeRssKb(this.pid);
    if (rss !== undefined && rss > this.peakKb) this.peakKb = rss;
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}
