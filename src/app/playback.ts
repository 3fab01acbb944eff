import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/log';
import type { GatewayConfig } from '../config/schema';
import type { Registry } from '../hub/registry';
import { registerPlaybackRoutes } from '../protocols/playback/routes';
import { WsAudioSink } from '../protocols/ws-audio/audio-sink';
import type { Recording } from './recording/compose';

/**
 * Playback of recordings on the HTTP server: ranges, HLS VOD, segment files, timeline and days,
 * read from the recording's index and folder (record.dir, record.timezone), admitted like live play;
 * a range's G.711 through ws-audio's sink.
 */
export function registerPlayback(http: FastifyInstance, recording: Recording, config: GatewayConfig, log: Logger, registry: Registry): void {
  registerPlaybackRoutes(http, {
    index: recording.repo,
    dir: recording.layout.root,
    timeZone: recording.layout.timeZone,
    log: log.child({ component: 'playback' }),
    hevcMode: config.http.flvHevcMode,
    admission: (request) => registry.admission.admit(request),
    // A recorded range's G.711 goes out as live audio does: the same sink, framing and close codes.
    audioSink: (socket, raw, remote) => new WsAudioSink(socket, raw, remote),
    extraHeaders: config.http.cors
      ? { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'X-Playback-Start, X-Playback-End, X-Playback-Gaps, Content-Disposition' }
      : {},
  });
}
