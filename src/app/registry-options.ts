import type { GatewayConfig } from '../config/schema';
import type { RegistryOptions } from '../hub/registry';

/** Config (seconds) to hub options (ms). */
export function registryOptionsFrom(hub: GatewayConfig['hub']): RegistryOptions {
  return {
    gop: { ...hub.gopCache },
    backpressure: { maxPendingBytes: hub.viewer.maxPendingBytes, maxLagMs: hub.viewer.maxLag * 1000 },
    trackWaitMs: hub.trackWait * 1000,
    reconnectGraceMs: hub.reconnectGrace * 1000,
    waitForPublisherMs: hub.waitForPublisher * 1000,
    startTimeoutMs: hub.startTimeout * 1000,
    closeAfterMs: hub.closeAfter * 1000,
  };
}
