import type { GatewayConfig } from '../config/schema';
import type { TsFeedOptions } from '../formats/mpegts/ts-feed';
import type { RegistryOptions } from '../hub/registry';

/** Config (seconds) to hub options (ms). The GOP cache keeps enough older GOPs for the longest TS burst. */
export function registryOptionsFrom(hub: GatewayConfig['hub'], http: Pick<GatewayConfig['http'], 'tsBurstSeconds'>): RegistryOptions {
  return {
    gop: { ...hub.gopCache, historyMs: http.tsBurstSeconds * 1000 },
    backpressure: { maxPendingBytes: hub.viewer.maxPendingBytes, maxLagMs: hub.viewer.maxLag * 1000 },
    trackWaitMs: hub.trackWait * 1000,
    reconnectGraceMs: hub.reconnectGrace * 1000,
    waitForPublisherMs: hub.waitForPublisher * 1000,
    startTimeoutMs: hub.startTimeout * 1000,
    closeAfterMs: hub.closeAfter * 1000,
  };
}

/** The TS feeds keep their muxed chunks as far back as the longest burst (http.tsBurstSeconds). */
export function tsFeedOptions(config: Pick<GatewayConfig, 'http'>): TsFeedOptions {
  return { historyMs: config.http.tsBurstSeconds * 1000 };
}
