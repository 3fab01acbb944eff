import type { Logger } from '../../core/log';
import type { HevcMode } from '../../formats/flv/bodies';
import type { AdmissionRequest } from '../../core/admission';
import { GatewayError, errorBody, httpStatusOf } from '../../core/errors';
import { playRequest, type ParsedQuery } from '../shared/admission';
import type { PlanSegment } from './range-plan';
import type { AudioSinkFactory } from './range-audio';

/** A recording row as playback reads it (storage/repos/recordings.ts RecordingRow). */
export interface RecordingEntry extends PlanSegment {
  readonly path: string;
  readonly status: string;
}

/** The part of the recordings index playback reads (RecordingsRepo, injected by the app). */
export interface RecordingIndex {
  find(query: { path: string; startMs: number; endMs: number; limit?: number }): RecordingEntry[];
  get(id: number): RecordingEntry | undefined;
  days(path: string, monthStartMs: number, monthEndMs: number, timeZone: string): string[];
}

/** registry.admission.admit: resolves when allowed, throws UNAUTHORIZED/FORBIDDEN/UNAVAILABLE. */
export type PlayAdmission = (request: AdmissionRequest) => Promise<unknown>;

export interface PlaybackDeps {
  readonly index: RecordingIndex;
  /** record.dir: the files of the index are relative to it. */
  readonly dir: string;
  readonly timeZone: string;
  readonly log: Logger;
  readonly hevcMode: HevcMode;
  readonly admission?: PlayAdmission;
  /** Extra response headers (CORS) for the hijacked media responses. */
  readonly extraHeaders: Readonly<Record<string, string>>;
  /** The listener of a range's G.711 (ws-audio's sink, given by the app); without it there is no `.g711` route. */
  readonly audioSink?: AudioSinkFactory;
}

const SEGMENT_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** `app/stream` from route params, refusing names the recorder could not have written. */
export function streamPath(app: string, stream: string): string {
  if (!SEGMENT_NAME.test(app) || !SEGMENT_NAME.test(stream) || app.startsWith('.') || stream.startsWith('.')) {
    throw new GatewayError('BAD_REQUEST', 'app and stream are letters, digits, "_", "-" and "."');
  }
  return `${app}/${stream}`;
}

/** Epoch ms, or ISO 8601 with a zone (Z or ±hh:mm): a time without a zone is ambiguous. */
export function parseTime(value: string | undefined, name: string): number {
  if (value === undefined || value === '') throw new GatewayError('BAD_REQUEST', `${name} is required (ISO 8601 with an offset, or ms since the epoch)`);
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
  const ms = iso.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new GatewayError('BAD_REQUEST', `${name}=${value.slice(0, 60)} is not ISO 8601 with an offset or ms since the epoch`);
  return ms;
}

export const MIN_SPEED = 0.5;
export const MAX_SPEED = 16;

export function parseSpeed(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const speed = Number(value);
  if (!Number.isFinite(speed) || speed < MIN_SPEED || speed > MAX_SPEED) {
    throw new GatewayError('BAD_REQUEST', `speed must be between ${MIN_SPEED} and ${MAX_SPEED}`);
  }
  return speed;
}

/** Status and body of any error a playback request ends with. */
export function failure(err: unknown): { status: number; body: { code: string; message: string } } {
  return { status: httpStatusOf(err), body: errorBody(err) };
}

/** Runs the play admission (if any) for this request, with the query minus playback's own keys. */
export async function admit(deps: PlaybackDeps, path: string, protocol: string, remote: string, query: ParsedQuery, own: readonly string[]): Promise<void> {
  await deps.admission?.(playRequest(protocol, path, remote, Object.fromEntries(Object.entries(query).filter(([k]) => !own.includes(k)))));
}
