import { Cron } from 'croner';
import { GatewayError } from '../../core/errors';
import { zonedParts, zonedToEpoch } from '../../core/zoned-time';
import type { RecordPlan } from '../../../storage/repos/record-plans';

/** Whether a plan records at an instant, and until when (or when it starts next). */
export type PlanWindow = { readonly active: true; readonly until: number | null } | { readonly active: false; readonly next: number | null };

interface WeeklyRule {
  readonly days: ReadonlySet<number>;
  /** Minutes since local midnight, [start, end). */
  readonly start: number;
  readonly end: number;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MAX_CRON = 16;

function bad(message: string): GatewayError {
  return new GatewayError('BAD_REQUEST', message);
}

function parseDays(text: string): Set<number> {
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [from, to] = part.trim().toLowerCase().split('-');
    const a = DAY_NAMES.indexOf(from ?? '');
    const b = to === undefined ? a : DAY_NAMES.indexOf(to);
    if (a < 0 || b < 0) throw bad(`weekly schedule: "${part.trim()}" is not a weekday or range (mon, tue-fri, sat,sun)`);
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return days;
}

function parseClock(text: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[2]) > 59 || minutes > 24 * 60) throw bad(`weekly schedule: "${text.trim()}" is not a time HH:MM (00:00-24:00)`);
  return minutes;
}

/**
 * Parses `mon-fri 08:00-18:00; sat,sun 10:00-12:00, 14:00-16:00`. A range that ends before it
 * starts (`22:00-06:00`) runs past midnight into the next day.
 */
export function parseWeekly(text: string): WeeklyRule[] {
  const rules: WeeklyRule[] = [];
  for (const clause of text
    .split(';')
    .map((c) => c.trim())
    .filter(Boolean)) {
    const space = clause.indexOf(' ');
    if (space < 0) throw bad(`weekly schedule: "${clause}" needs days and time ranges`);
    const days = parseDays(clause.slice(0, space));
    for (const range of clause
      .slice(space + 1)
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean)) {
      const [from, to, extra] = range.split('-');
      if (from === undefined || to === undefined || extra !== undefined) throw bad(`weekly schedule: "${range}" is not a range HH:MM-HH:MM`);
      const start = parseClock(from);
      const end = parseClock(to);
      if (start === end) throw bad(`weekly schedule: "${range}" is empty`);
      if (end > start) rules.push({ days, start, end });
      else {
        rules.push({ days, start, end: 24 * 60 });
        if (end > 0) rules.push({ days: new Set([...days].map((d) => (d + 1) % 7)), start: 0, end });
      }
    }
  }
  if (rules.length === 0) throw bad('weekly schedule is empty');
  return rules;
}

/** Monday first, as the console's grid shows the week. */
const GRID_DAYS = [1, 2, 3, 4, 5, 6, 0];

/**
 * A weekly schedule as 7 rows (Monday first) of 24 `0`/`1`: `1` where the hour records at all,
 * for the console's grid (one parser: the page never parses the `weekly` text).
 */
export function weeklyHours(text: string): string[] {
  const rules = parseWeekly(text);
  return GRID_DAYS.map((day) => {
    let row = '';
    for (let hour = 0; hour < 24; hour++) {
      const on = rules.some((r) => r.days.has(day) && r.start < (hour + 1) * 60 && r.end > hour * 60);
      row += on ? '1' : '0';
    }
    return row;
  });
}

/** The cron expressions of a plan (`;`-separated), checked by croner. */
export function parseCron(text: string, timeZone: string): Cron[] {
  const parts = text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0 || parts.length > MAX_CRON) throw bad(`cron: give 1-${MAX_CRON} expressions separated by ";"`);
  return parts.map((expr) => {
    try {
      return new Cron(expr, { timezone: timeZone, paused: true });
    } catch (err) {
      throw bad(`cron: "${expr}": ${(err as Error).message}`);
    }
  });
}

function weeklyWindow(rules: readonly WeeklyRule[], now: number, timeZone: string): PlanWindow {
  const p = zonedParts(now, timeZone);
  const minute = p.hour * 60 + p.minute + p.second / 60;
  for (const rule of rules) {
    if (!rule.days.has(p.weekday) || minute < rule.start || minute >= rule.end) continue;
    const until = rule.end === 24 * 60 ? nextMidnight(p, timeZone) : zonedToEpoch(p.year, p.month, p.day, Math.floor(rule.end / 60), rule.end % 60, 0, timeZone);
    return { active: true, until };
  }
  // The next start within a week: walk the days ahead at local midnight.
  let next: number | null = null;
  for (let ahead = 0; ahead < 8 && next === null; ahead++) {
    const date = new Date(Date.UTC(p.year, p.month - 1, p.day + ahead));
    const weekday = date.getUTCDay();
    const starts = rules.filter((r) => r.days.has(weekday) && (ahead > 0 || r.start > minute)).map((r) => r.start);
    if (starts.length > 0) {
      const start = Math.min(...starts);
      next = zonedToEpoch(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), Math.floor(start / 60), start % 60, 0, timeZone);
    }
  }
  return { active: false, next };
}

function nextMidnight(p: { year: number; month: number; day: number }, timeZone: string): number {
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  return zonedToEpoch(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, 0, 0, timeZone);
}

/** How far back a run may lie and still be found when a DST gap moved it (croner maps a run
 * inside a spring-forward gap to just after it, but only when asked from before the gap). */
const DST_LOOKBACK_MS = 2 * 3_600_000;

/** A cron window opens at each run and lasts `durationMs`; overlapping runs extend it. */
function cronWindow(crons: readonly Cron[], durationMs: number, now: number): PlanWindow {
  let until: number | null = null;
  let next: number | null = null;
  for (const cron of crons) {
    for (const back of [0, DST_LOOKBACK_MS]) {
      if (back > 0 && until !== null) break;
      let run = cron.nextRun(new Date(now - durationMs - back))?.getTime();
      for (let guard = 0; run !== undefined && run <= now && guard < 1000; guard++) {
        if (run + durationMs > now) until = Math.max(until ?? 0, run + durationMs);
        run = cron.nextRun(new Date(run))?.getTime();
      }
      if (run !== undefined && run > now && (next === null || run < next)) next = run;
    }
  }
  if (until !== null) return { active: true, until };
  return { active: false, next };
}

/** Compiles a plan's `when` once; `at(now)` is then cheap (the scheduler asks every tick). */
export function compileSchedule(plan: Pick<RecordPlan, 'when' | 'weekly' | 'cron' | 'duration'>, timeZone: string): (now: number) => PlanWindow {
  switch (plan.when) {
    case 'always':
      return () => ({ active: true, until: null });
    case 'weekly': {
      const rules = parseWeekly(plan.weekly);
      return (now) => weeklyWindow(rules, now, timeZone);
    }
    case 'cron': {
      if (!(plan.duration > 0)) throw bad('cron plans need duration (seconds each window lasts) > 0');
      const crons = parseCron(plan.cron, timeZone);
      return (now) => cronWindow(crons, plan.duration * 1000, now);
    }
  }
}
