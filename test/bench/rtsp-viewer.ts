/**
 * The RTSP viewer of the load client: TCP interleaved (DESCRIBE, SETUP per track on channels
 * 0-1, 2-3 ..., PLAY), then `$` frames. Like the FLV viewers it parses only up to the first
 * video keyframe (an RTP payload carrying an IDR or the SPS before it) and then just counts
 * bytes. Bytes counted: every socket byte after PLAY (`$` heads and RTP headers are the
 * protocol, as RTMP chunk headers are).
 */
import { connect } from 'node:net';
import { errorMessage } from '../../src/core/errors';
import { RtspReader, header, type RtspResponse } from '../../src/protocols/rtsp/message';
import type { Viewer, ViewerContext, ViewerStats } from './viewers';

/** The viewer bookkeeping of viewers.ts, handed in (one set of rules for every protocol). */
export interface ViewerBookkeeping {
  newStats(): ViewerStats;
  onBytes(stats: ViewerStats, n: number, gapLimitMs: number): void;
  onKeyframe(stats: ViewerStats): void;
  onClosed(stats: ViewerStats, reason: string): void;
}

/** H.264 over RTP: an IDR slice, an FU-A starting one, or a STAP-A carrying the SPS (which the server puts before the IDR). */
export function rtpCarriesH264Keyframe(packet: Buffer): boolean {
  if (packet.length < 14) return false;
  const offset = 12 + (packet[0]! & 0x0f) * 4 + (packet[0]! & 0x10 ? 4 + packet.readUInt16BE(12 + (packet[0]! & 0x0f) * 4 + 2) * 4 : 0);
  const nal = packet[offset];
  if (nal === undefined) return false;
  const type = nal & 0x1f;
  if (type === 5) return true;
  if (type === 28) return ((packet[offset + 1] ?? 0) & 0x9f) === 0x85;
  if (type === 24) return ((packet[offset + 3] ?? 0) & 0x1f) === 7;
  return false;
}

export function openRtspViewer({ target, gapLimitMs, readBuffer }: ViewerContext, book: ViewerBookkeeping): Viewer {
  const stats = book.newStats();
  const url = `rtsp://${target.host}:${target.rtspPort ?? 0}/${target.app}/${target.stream}`;
  const reader = new RtspReader();
  let cseq = 0;
  let session = '';
  let controls: { control: string; video: boolean }[] = [];
  let setups = 0;
  let videoChannel = -1;
  const onread = {
    buffer: readBuffer,
    callback: (n: number): boolean => {
      onData(readBuffer.subarray(0, n));
      return true;
    },
  };
  const socket = connect({ port: target.rtspPort ?? 0, host: target.host, onread });
  const fail = (reason: string): void => {
    book.onClosed(stats, reason);
    socket.destroy();
  };
  const request = (method: string, uri: string, extra = ''): void => {
    socket.write(`${method} ${uri} RTSP/1.0\r\nCSeq: ${++cseq}\r\nUser-Agent: gateway-rtsp-bench\r\n${session ? `Session: ${session}\r\n` : ''}${extra}\r\n`);
  };
  const setupNext = (): void => {
    const next = controls[setups]!;
    if (next.video) videoChannel = setups * 2;
    request('SETUP', `${url}/${next.control}`, `Transport: RTP/AVP/TCP;unicast;interleaved=${setups * 2}-${setups * 2 + 1}\r\n`);
  };
  const onResponse = (response: RtspResponse): void => {
    if (response.status !== 200) return fail(`RTSP ${response.status} ${response.reason}`);
    if (controls.length === 0) {
      controls = sdpControls(response.body.toString('utf8'));
      if (controls.length === 0) return fail('DESCRIBE answered no track');
      return setupNext();
    }
    if (setups < controls.length) {
      session ||= (header(response.headers, 'session') ?? '').split(';')[0]!;
      if (++setups < controls.length) return setupNext();
      return request('PLAY', url, 'Range: npt=0.000-\r\n');
    }
    stats.phase = 'accepted';
  };
  const onData = (chunk: Buffer): void => {
    if (stats.firstKeyAt === undefined) {
      let items;
      try {
        // The read buffer is shared: the reader keeps what it is fed, so it gets a copy.
        items = reader.feed(Buffer.from(chunk));
      } catch (err) {
        return fail(`bad RTSP: ${errorMessage(err)}`);
      }
      for (const item of items) {
        if (item.kind === 'response') onResponse(item);
        else if (item.kind === 'interleaved' && item.channel === videoChannel && stats.firstKeyAt === undefined && rtpCarriesH264Keyframe(item.data)) book.onKeyframe(stats);
      }
    }
    book.onBytes(stats, chunk.length, gapLimitMs);
  };
  socket.on('connect', () => {
    stats.phase = 'connected';
    request('DESCRIBE', url, 'Accept: application/sdp\r\n');
  });
  socket.on('error', (err) => book.onClosed(stats, `socket error: ${err.message}`));
  socket.on('close', () => book.onClosed(stats, 'server closed'));
  return { stats, close: () => fail('closed by bench') };
}

/** The `a=control:` of each m= section, video marked. */
function sdpControls(sdp: string): { control: string; video: boolean }[] {
  const out: { control: string; video: boolean }[] = [];
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const control = /\r?\na=control:(\S+)/.exec(section)?.[1];
    if (control) out.push({ control, video: section.startsWith('video') });
  }
  return out;
}
