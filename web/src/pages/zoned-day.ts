/**
 * Local days in the recordings' time zone (record.timezone, which the days API names), with the
 * browser's Intl: the page's calendar and timeline cover `YYYY-MM-DD` 00:00 to the next 00:00
 * there, whatever zone the browser is in. Pure (tested in Node against the server's zoned-time).
 */

/** The zone's offset from UTC at `epochMs` (ms, east positive). */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(epochMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - (epochMs - (epochMs % 1000));
}

/** Epoch ms of local midnight of `date` (`YYYY-MM-DD`) in `timeZone`. */
export function localMidnight(date: string, timeZone: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(year, month - 1, day);
  let epoch = guess - zoneOffsetMs(guess, timeZone);
  // Across an offset change the first guess is off by the change: one more step settles it.
  epoch = guess - zoneOffsetMs(epoch, timeZone);
  return epoch;
}

/** `[start, end)` of the local day `date` (23 or 25 h on DST days). */
export function dayBounds(date: string, timeZone: string): { startMs: number; endMs: number } {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const next = new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
  return { startMs: localMidnight(date, timeZone), endMs: localMidnight(next, timeZone) };
}

/** `YYYY-MM-DD` of `epochMs` in `timeZone`. */
export function localDate(epochMs: number, timeZone: string): string {
  return new Date(epochMs + zoneOffsetMs(epochMs, timeZone)).toISOString().slice(0, 10);
}

/** `HH:MM:SS` of `epochMs` in `timeZone`. */
export function localClock(epochMs: number, timeZone: string): string {
  return new Date(epochMs + zoneOffsetMs(epochMs, timeZone)).toISOString().slice(11, 19);
}
