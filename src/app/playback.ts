import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/log';
import { systemTimeZone } from '../core/zoned-time';
import type { GatewayConfig } from '../config/schema';
import type { Registry } from '../hub/registry';
import { registerPlaybackRoutes } from '../protocols/playback/routes';
import type { Db } from '../../storage/db';
import { RecordingsRepo } from '../../storage/repos/recordings';

/** The record settings playback reads (record.dir default `{storage.dir}/record`, record.timezone). */
interface RecordSettings {
  readonly dir?: string;
  readonly timezone?: string;
}

/**
 * Playback of recordings on the HTTP server: ranges, HLS VOD, segment files, timeline and days,
 * read from the recordings index and record.dir.
 */
export function registerPlayback(http: FastifyInstance, db: Db, config: GatewayConfig, log: Logger, registry: Registry): void {
  const record = (config as GatewayConfig & { record?: RecordSettings }).record ?? {};
  registerPlaybackRoutes(http, {
    index: new RecordingsRepo(db),
    dir: record.dir ?? join(config.storage.dir, 'record'),
    timeZone: record.timezone || systemTimeZone(),
    log: log.child({ component: 'playback' }),
    hevcMode: config.http.flvHevcMode,
    admission: (request) => registry.admission.admit(request),
    extraHeaders: config.http.cors ? { 'Access-Control-Allow-Origin': '*' } : {},
  });
}
