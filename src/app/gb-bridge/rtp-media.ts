import { GatewayError } from '../../core/errors';
import type pino from 'pino';
import type { GatewayConfig } from '../../config/schema';
import type { Registry } from '../../hub/registry';
import type { GbMediaFactory } from './media';

/**
 * The media side of a GB28181 pull, built on rtp/net receivers and the rtp/ PS ingest.
 * Placeholder until rtp/net lands: every pull fails with a clear message.
 */
export function createRtpMediaFactory(_config: GatewayConfig, _registry: Registry, _log: pino.Logger): GbMediaFactory {
  void _config;
  void _registry;
  void _log;
  return async () => {
    throw new GatewayError('SOURCE_START_FAILED', 'RTP receiving (rtp/net) is not available in this build');
  };
}
