/**
 * Wall-clock parts of an instant in an IANA time zone, and back, with Intl only (no tz data of
 * our own). Recording folders, the days calendar and weekly schedules all use these.
 */

export interface ZonedParts {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday ... 6 = Saturday. */
  readonly weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The system's time zone (what `record.timezone: ""` means). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Throws a RangeError for a name Intl does not know. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

export function zonedParts(epochMs: number, timeZone: string): ZonedParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(epochMs))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
  };
}

/** Offset of the zone from UTC at `epochMs`, in ms (east positive). */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const p = zonedParts(epochMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * The instant a local wall-clock time names. A time inside a spring-forward gap resolves to the
 * instant just after the gap; a time that occurs twice (fall back) resolves to its first occurrence.
 */
export function zonedToEpoch(year: number, month: number, day: number, hour: number, minute: number, second: number, timeZone: string): number {
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const DAY = 86_400_000;
  const before = local - zoneOffsetMs(local - DAY, timeZone);
  const after = local - zoneOffsetMs(local + DAY, timeZone);
  const valid = [before, after].filter((c) => c + zoneOffsetMs(c, timeZone) === local);
  if (valid.length > 0) return Math.min(...valid);
  return before; // a gap: the offset before the jump carries the time past it
}

/** Midnight (local) of the day containing `epochMs`, and of the next day. */
export function localDayBounds(epochMs: number, timeZone: string): { start: number; end: number; date: string } {
  const p = zonedParts(epochMs, timeZone);
  const start = zonedToEpoch(p.year, p.month, p.day, 0, 0, 0, timeZone);
  const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  const end = zonedToEpoch(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, 0, 0, timeZone);
  return { start, end, date: `${p.year}-${pad2(p.month)}-${pad2(p.day)}` };
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
