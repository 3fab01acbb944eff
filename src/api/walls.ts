import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import { WALL_LAYOUTS, tilesOf, type WallInput, type WallLayout, type WallRecord } from '../core/walls';
import { errorResponses } from './schemas';

/** A saved monitoring wall as the API shows it. */
export type WallDto = WallRecord;
export type { WallInput, WallLayout };

/** Implemented by storage/repos/walls.ts. */
export interface WallsService {
  list(): WallDto[];
  get(id: number): WallDto | undefined;
  create(input: WallInput): WallDto;
  update(id: number, input: Partial<WallInput>): WallDto | undefined;
  remove(id: number): boolean;
}

const wallSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    layout: { type: 'string' },
    tiles: { type: 'array', items: { type: ['string', 'null'] } },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

const inputProperties = {
  name: { type: 'string', minLength: 1, maxLength: 100 },
  layout: { type: 'string', enum: [...WALL_LAYOUTS] },
  tiles: { type: 'array', maxItems: 16, items: { anyOf: [{ type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}$' }, { type: 'null' }] } },
} as const;

const idParams = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;

function checkTiles(input: Partial<WallInput>, layout: WallLayout | undefined): void {
  if (input.tiles && layout && input.tiles.length > tilesOf(layout)) {
    throw new GatewayError('BAD_REQUEST', `layout ${layout} has ${tilesOf(layout)} tiles, ${input.tiles.length} given`);
  }
}

/** /api/walls: saved monitoring walls (name, layout, tiles), kept in SQLite (migration 007). */
export async function wallsApi(app: FastifyInstance, deps: { walls: WallsService }): Promise<void> {
  app.get(
    '/api/walls',
    { schema: { tags: ['console'], summary: 'Saved walls', response: { 200: { type: 'object', properties: { walls: { type: 'array', items: wallSchema } } } } } },
    async () => ({
      walls: deps.walls.list(),
    }),
  );

  app.get<{ Params: { id: number } }>(
    '/api/walls/:id',
    { schema: { tags: ['console'], summary: 'One saved wall', params: idParams, response: { 200: wallSchema, ...errorResponses } } },
    async (request) => {
      const wall = deps.walls.get(request.params.id);
      if (!wall) throw new GatewayError('NOT_FOUND', `no wall ${request.params.id}`);
      return wall;
    },
  );

  app.post<{ Body: WallInput }>(
    '/api/walls',
    {
      schema: {
        tags: ['console'],
        summary: 'Save a wall',
        body: { type: 'object', properties: inputProperties, required: ['name', 'layout', 'tiles'], additionalProperties: false },
        response: { 201: wallSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      checkTiles(request.body, request.body.layout);
      return reply.code(201).send(deps.walls.create(request.body));
    },
  );

  app.put<{ Params: { id: number }; Body: Partial<WallInput> }>(
    '/api/walls/:id',
    {
      schema: {
        tags: ['console'],
        summary: 'Change a saved wall (name, layout, tiles)',
        params: idParams,
        body: { type: 'object', properties: inputProperties, additionalProperties: false },
        response: { 200: wallSchema, ...errorResponses },
      },
    },
    async (request) => {
      checkTiles(request.body, request.body.layout ?? deps.walls.get(request.params.id)?.layout);
      const wall = deps.walls.update(request.params.id, request.body);
      if (!wall) throw new GatewayError('NOT_FOUND', `no wall ${request.params.id}`);
      return wall;
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/walls/:id',
    {
      schema: {
        tags: ['console'],
        summary: 'Delete a saved wall',
        params: idParams,
        response: { 200: { type: 'object', properties: { deleted: { type: 'integer' } } }, ...errorResponses },
      },
    },
    async (request) => {
      if (!deps.walls.remove(request.params.id)) throw new GatewayError('NOT_FOUND', `no wall ${request.params.id}`);
      return { deleted: request.params.id };
    },
  );
}
