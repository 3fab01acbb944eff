import { GatewayError } from '../../core/errors';
import { isValidStreamPath, pathPatternToRegExp } from '../../hub/path';
import type { RecordPlan } from '../../../storage/repos/record-plans';
import type { RecordingFormat } from '../../../storage/repos/recordings';
import { compileSchedule } from './schedule';

export const RECORDING_FORMATS: readonly RecordingFormat[] = ['flv', 'ts', 'hls'];
const PLAN_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const GB_ID = /^\d{20}$/;
const PATTERN_PART = /^[A-Za-z0-9_.*-]{1,64}$/;
const MAX_STREAMS = 1000;

/** A plan as the API and the config give it: every field but id optional. */
export type PlanInput = Partial<Omit<RecordPlan, 'streams' | 'formats'>> & { streams?: readonly string[] | string; formats?: readonly string[] | string };

function bad(message: string): GatewayError {
  return new GatewayError('BAD_REQUEST', message);
}

function list(value: readonly string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return (typeof value === 'string' ? value.split(',') : [...value]).map((s) => String(s).trim()).filter(Boolean);
}

/** A stream selector: an exact path, a pattern with `*` inside a part, or a GB28181 id. */
export function isStreamSelector(selector: string): boolean {
  if (GB_ID.test(selector) || isValidStreamPath(selector)) return true;
  const parts = selector.split('/');
  return parts.length === 2 && parts.every((p) => PATTERN_PART.test(p) && p !== '.' && p !== '..');
}

/** Checks and completes a plan; throws BAD_REQUEST naming the bad field. */
export function normalizePlan(input: PlanInput, timeZone: string, base?: RecordPlan): RecordPlan {
  const id = input.id ?? base?.id;
  if (typeof id !== 'string' || !PLAN_ID.test(id)) throw bad('plan id: 1-64 characters of [A-Za-z0-9_.-]');
  const streams = input.streams === undefined && base ? [...base.streams] : list(input.streams);
  if (streams.length === 0 || streams.length > MAX_STREAMS) throw bad(`plan ${id}: streams needs 1-${MAX_STREAMS} paths, patterns (live/*) or GB28181 ids`);
  for (const s of streams) if (!isStreamSelector(s)) throw bad(`plan ${id}: "${s.slice(0, 140)}" is not a stream path, pattern or 20-digit GB28181 id`);
  const formats = input.formats === undefined && base ? [...base.formats] : list(input.formats ?? 'flv');
  if (formats.length === 0) throw bad(`plan ${id}: formats needs at least one of flv, ts, hls`);
  for (const f of formats) if (!RECORDING_FORMATS.includes(f as RecordingFormat)) throw bad(`plan ${id}: format "${f.slice(0, 20)}" is not flv, ts or hls`);
  const plan: RecordPlan = {
    id,
    enabled: input.enabled ?? base?.enabled ?? true,
    streams,
    formats: [...new Set(formats)] as RecordingFormat[],
    when: input.when ?? base?.when ?? 'always',
    weekly: input.weekly ?? base?.weekly ?? '',
    cron: input.cron ?? base?.cron ?? '',
    duration: input.duration ?? base?.duration ?? 0,
    segmentSeconds: input.segmentSeconds ?? base?.segmentSeconds ?? 0,
    deleteAfterDays: input.deleteAfterDays ?? base?.deleteAfterDays ?? 0,
    preRoll: input.preRoll ?? base?.preRoll ?? 0,
  };
  if (!['always', 'weekly', 'cron'].includes(plan.when)) throw bad(`plan ${id}: when is always, weekly or cron`);
  for (const [key, max] of [
    ['duration', 7 * 86_400],
    ['segmentSeconds', 86_400],
    ['deleteAfterDays', 36_500],
    ['preRoll', 300],
  ] as const) {
    const v = plan[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) throw bad(`plan ${id}: ${key} must be a number 0..${max}`);
  }
  if (plan.segmentSeconds > 0 && plan.segmentSeconds < 1) throw bad(`plan ${id}: segmentSeconds must be at least 1 (or 0 for record.segmentSeconds)`);
  compileSchedule(plan, timeZone); // throws on a bad weekly text or cron expression
  return plan;
}

/** Does `selector` (path or pattern, not a GB id) match `path`? */
export function selectorMatches(selector: string, path: string): boolean {
  if (!selector.includes('*')) return selector === path;
  return pathPatternToRegExp(selector).test(path);
}
