import type { GatewayConfig } from '../config/schema';

export type StreamUrls = {
  rtmp: string;
  flv: string;
  ws_flv: string;
  hls: string;
  ts: string;
};

/**
 * Every protocol's URL of a path, for the host name the client used, with `query` (`?token=...`)
 * appended so that the URL plays under auth.play.
 */
export function streamUrls(config: GatewayConfig, ports: () => { http?: number; rtmp?: number }, path: string, host: string, query = ''): StreamUrls {
  const { http, rtmp } = ports();
  const base = `${host}:${http ?? config.http.port}`;
  return {
    rtmp: `rtmp://${host}:${rtmp ?? config.rtmp.port}/${path}${query}`,
    flv: `http://${base}/${path}.flv${query}`,
    ws_flv: `ws://${base}/${path}.flv${query}`,
    hls: `http://${base}/${path}/index.m3u8${query}`,
    ts: `http://${base}/${path}.ts${query}`,
  };
}
