/**
 * The record-plan grid's model (pure): 7 weekdays x 24 hours, Monday first, and its text in the
 * plans' `weekly` syntax (`mon-fri 08:00-18:00; sat 10:00-12:00`, parsed by the server's
 * src/app/recording/schedule.ts, which also sends each weekly plan back as `weeklyHours`).
 */

/** Monday first, as the grid shows them; the names are the `weekly` syntax's. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `grid[day][hour]`: records in that hour. */
export type WeekGrid = boolean[][];

export function emptyGrid(): WeekGrid {
  return WEEKDAYS.map(() => Array.from({ length: 24 }, () => false));
}

/** The grid of the server's `weeklyHours` (7 strings of 24 `0`/`1`, Monday first). */
export function gridOfHours(hours: readonly string[] | undefined): WeekGrid {
  const grid = emptyGrid();
  hours?.forEach((row, day) => {
    for (let hour = 0; hour < 24; hour++) if (row[hour] === '1' && grid[day]) grid[day]![hour] = true;
  });
  return grid;
}

function clock(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}

/** `08:00-12:00, 14:00-18:00` of one day's row, or '' when it records never. */
function rangesOf(row: readonly boolean[]): string {
  const out: string[] = [];
  for (let hour = 0; hour < 24; hour++) {
    if (!row[hour]) continue;
    const start = hour;
    while (hour < 24 && row[hour]) hour++;
    out.push(`${clock(start)}-${clock(hour)}`);
  }
  return out.join(', ');
}

/** `mon-wed,fri` for day indexes (runs of three or more days as a range). */
function daysOf(days: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < days.length; i++) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${WEEKDAYS[days[i]!]}-${WEEKDAYS[days[j]!]}`);
    else for (let k = i; k <= j; k++) parts.push(WEEKDAYS[days[k]!]!);
    i = j;
  }
  return parts.join(',');
}

/** The `weekly` text of a grid: days with the same hours share a clause; '' for an empty grid. */
export function weeklyOfGrid(grid: WeekGrid): string {
  const byRanges = new Map<string, number[]>();
  grid.forEach((row, day) => {
    const ranges = rangesOf(row);
    if (ranges) byRanges.set(ranges, [...(byRanges.get(ranges) ?? []), day]);
  });
  return [...byRanges].map(([ranges, days]) => `${daysOf(days)} ${ranges}`).join('; ');
}

/** Paints the rectangle between two cells (a click-drag) with `value`. */
export function paint(grid: WeekGrid, from: { day: number; hour: number }, to: { day: number; hour: number }, value: boolean): WeekGrid {
  const next = grid.map((row) => [...row]);
  for (let day = Math.min(from.day, to.day); day <= Math.max(from.day, to.day); day++) {
    for (let hour = Math.min(from.hour, to.hour); hour <= Math.max(from.hour, to.hour); hour++) if (next[day]) next[day]![hour] = value;
  }
  return next;
}
