/**
 * The listener settings every test and bench gateway starts with: each listener on 127.0.0.1
 * and a port the OS chooses, so no test binds a default port or leaves loopback. Spread it
 * first into a GW_* env; a key set after it (a fixed SIP port, say) wins.
 */
export const LOOPBACK_LISTENERS: Readonly<Record<string, string>> = {
  GW_HTTP_HOST: '127.0.0.1',
  GW_HTTP_PORT: '0',
  GW_RTMP_HOST: '127.0.0.1',
  GW_RTMP_PORT: '0',
  GW_RTSP_HOST: '127.0.0.1',
  GW_RTSP_PORT: '0',
  GW_SIP_HOST: '127.0.0.1',
  GW_SIP_PORT: '0',
  GW_RTP_HOST: '127.0.0.1',
  GW_RTP_PORT_MIN: '0',
};
