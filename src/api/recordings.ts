import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import type { RecordingFormat, RecordingRow } from '../../storage/repos/recordings';
import type { RecordPlan } from '../../storage/repos/record-plans';

/** What GET /api/record/active shows of one recorder. */
export interface ActiveRecordingDto {
  path: string;
  formats: readonly RecordingFormat[];
  reason: string;
  planId: string | null;
  since: string;
  state: 'waiting' | 'recording';
  bytes: number;
  files: readonly string[];
  drops: number;
  lastError: string | null;
  until: string | null;
}

export interface PlanDto extends RecordPlan {
  source: 'config' | 'api';
  window: { active: boolean; until?: number | null; next?: number | null };
  /** A weekly plan's hours: 7 rows (Monday first) of 24 `0`/`1`, `1` where the hour records. */
  weeklyHours?: string[];
}

export type PlanBody = Partial<Omit<RecordPlan, 'streams' | 'formats'>> & { streams?: string[] | string; formats?: string[] | string };

/** Implemented by the app's recording side (index, retention, manager). */
export interface RecordingsService {
  find(query: { path: string; startMs: number; endMs: number; format?: RecordingFormat; limit: number; offset: number }): { rows: RecordingRow[]; total: number };
  /** Deletes the file and the row; false when there is no such segment; refuses an open one. */
  remove(id: number): boolean;
  startManual(path: string, formats: RecordingFormat[] | undefined, durationSeconds: number | undefined): ActiveRecordingDto;
  stopManual(path: string): Promise<boolean>;
  event(path: string, preSeconds: number, postSeconds: number): ActiveRecordingDto;
  /** Every recorder (with cluster.workers > 1: gathered from every worker). */
  active(): ActiveRecordingDto[] | Promise<ActiveRecordingDto[]>;
  listPlans(): PlanDto[];
  getPlan(id: string): PlanDto | undefined;
  createPlan(body: PlanBody): PlanDto;
  updatePlan(id: string, body: PlanBody): PlanDto;
  deletePlan(id: string): void;
}

const PATH = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}$', description: 'hub path app/stream' } as const;
const FORMAT = { type: 'string', enum: ['flv', 'ts', 'hls'] } as const;
const TIME = { type: 'string', maxLength: 40, description: 'ISO 8601 or ms since the epoch' } as const;
const PLAN_ID = { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } }, required: ['id'] } as const;
const LIST = {
  anyOf: [
    { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 1000 },
    { type: 'string', maxLength: 4000 },
  ],
} as const;
const PLAN_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    enabled: { type: 'boolean' },
    streams: LIST,
    formats: LIST,
    when: { type: 'string', enum: ['always', 'weekly', 'cron'] },
    weekly: { type: 'string', maxLength: 1000 },
    cron: { type: 'string', maxLength: 1000 },
    duration: { type: 'number', minimum: 0 },
    segmentSeconds: { type: 'number', minimum: 0 },
    deleteAfterDays: { type: 'number', minimum: 0 },
    preRoll: { type: 'number', minimum: 0, maximum: 300 },
  },
} as const;

function parseTime(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const ms = /^\d{1,16}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new GatewayError('BAD_REQUEST', `${name}: "${value}" is neither ISO 8601 nor ms since the epoch`);
  return ms;
}

function recordingDto(row: RecordingRow): Record<string, unknown> {
  return { ...row, start: new Date(row.startMs).toISOString(), end: new Date(row.endMs).toISOString() };
}

/** /api/recordings (the index) and /api/record/* (plans, manual and event recording, active recorders). */
export async function recordingsApi(app: FastifyInstance, deps: { recordings: RecordingsService }): Promise<void> {
  const svc = deps.recordings;
  app.get<{ Querystring: { path: string; start?: string; end?: string; format?: RecordingFormat; page?: number; count?: number } }>(
    '/api/recordings',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Recorded segments of a stream overlapping [start, end), by start time',
        querystring: {
          type: 'object',
          properties: {
            path: PATH,
            start: TIME,
            end: TIME,
            format: FORMAT,
            page: { type: 'integer', minimum: 1, default: 1 },
            count: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
          required: ['path'],
        },
      },
    },
    async (request) => {
      const q = request.query;
      const endMs = parseTime(q.end, Date.now(), 'end');
      const startMs = parseTime(q.start, endMs - 86_400_000, 'start');
      if (endMs <= startMs) throw new GatewayError('BAD_REQUEST', 'end must be after start');
      const count = q.count ?? 100;
      const { rows, total } = svc.find({ path: q.path, startMs, endMs, format: q.format, limit: count, offset: ((q.page ?? 1) - 1) * count });
      return { recordings: rows.map(recordingDto), total };
    },
  );
  app.delete<{ Params: { id: number } }>(
    '/api/recordings/:id',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Deletes a segment: its file and its row',
        params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
      },
    },
    async (request, reply) => {
      if (!svc.remove(request.params.id)) throw new GatewayError('NOT_FOUND', `no closed recording ${request.params.id}`);
      return reply.code(204).send();
    },
  );
  app.get('/api/record/active', { schema: { tags: ['recordings'], summary: 'Every recorder: path, formats, why, since, bytes, current files, drops, last error' } }, async () => ({
    recorders: await svc.active(),
  }));
  app.post<{ Body: { path: string; formats?: RecordingFormat[]; durationSeconds?: number } }>(
    '/api/record/start',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Starts a manual recording (again: changes its duration)',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { path: PATH, formats: { type: 'array', items: FORMAT, maxItems: 3 }, durationSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 7 * 86_400 } },
          required: ['path'],
        },
      },
    },
    async (request) => svc.startManual(request.body.path, request.body.formats, request.body.durationSeconds),
  );
  app.post<{ Body: { path: string } }>(
    '/api/record/stop',
    {
      schema: { tags: ['recordings'], summary: 'Stops a manual recording', body: { type: 'object', additionalProperties: false, properties: { path: PATH }, required: ['path'] } },
    },
    async (request) => {
      if (!(await svc.stopManual(request.body.path))) throw new GatewayError('NOT_FOUND', `no manual recording of ${request.body.path}`);
      return { stopped: true };
    },
  );
  app.post<{ Body: { path: string; preSeconds?: number; postSeconds?: number } }>(
    '/api/record/event',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Event recording: the last preSeconds and postSeconds more (a second event inside the window extends it)',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { path: PATH, preSeconds: { type: 'number', minimum: 0, maximum: 300 }, postSeconds: { type: 'number', minimum: 0, maximum: 3600 } },
          required: ['path'],
        },
      },
    },
    async (request) => svc.event(request.body.path, request.body.preSeconds ?? 5, request.body.postSeconds ?? 10),
  );
  app.get('/api/record/plans', { schema: { tags: ['recordings'], summary: 'Record plans (config and API) with their current window' } }, async () => ({ plans: svc.listPlans() }));
  app.post<{ Body: PlanBody }>(
    '/api/record/plans',
    { schema: { tags: ['recordings'], summary: 'Adds a record plan (kept in the database)', body: { ...PLAN_BODY, required: ['id', 'streams'] } } },
    async (request, reply) => reply.code(201).send(svc.createPlan(request.body)),
  );
  app.get<{ Params: { id: string } }>('/api/record/plans/:id', { schema: { tags: ['recordings'], params: PLAN_ID } }, async (request) => {
    const plan = svc.getPlan(request.params.id);
    if (!plan) throw new GatewayError('NOT_FOUND', `no record plan ${request.params.id}`);
    return plan;
  });
  app.patch<{ Params: { id: string }; Body: PlanBody }>('/api/record/plans/:id', { schema: { tags: ['recordings'], params: PLAN_ID, body: PLAN_BODY } }, async (request) =>
    svc.updatePlan(request.params.id, request.body),
  );
  app.delete<{ Params: { id: string } }>('/api/record/plans/:id', { schema: { tags: ['recordings'], params: PLAN_ID } }, async (request, reply) => {
    svc.deletePlan(request.params.id);
    return reply.code(204).send();
  });
}
