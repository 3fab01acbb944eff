import type { MediaDescription, SessionDescription } from '../../src/formats/sdp/sdp';
import type { StreamMode } from '../../src/core/gb28181';

/**
 * The SDP of a GB28181 INVITE (built here) and what the gateway reads from the device's answer
 * (parsed by the one SDP parser, src/formats/sdp).
 * Spec: RFC 8866; GB/T 28181-2016 Annex F (y= SSRC, f= media format); RFC 4145 (a=setup, a=connection)
 */

export interface InviteSdpFields {
  /** o= user and s=: the channel being played. */
  channelId: string;
  /** c= and o= address: where the device sends (or, tcp-active, where it listens for us). */
  mediaIp: string;
  mediaPort: number;
  mode: StreamMode;
  ssrc: string;
  sessionName?: 'Play' | 'Playback' | 'Download';
  /** Playback/Download: the recording range, Unix seconds (t= line), and u= `{channelId}:0`. */
  range?: { start: number; end: number };
  /** Download: how many times faster than real time the device sends. */
  downloadSpeed?: number;
  /** Sub-stream (0 main, 1 sub) in the forms devices read: `a=streamnumber` (2022) and the vendor ones wvp sends. */
  streamNumber?: number;
}

/** The a= lines that ask for a sub-stream: GB/T 28181-2022 streamnumber, Hikvision/most `stream`, Dahua streamprofile, TP-LINK streamMode. */
export function streamNumberLines(n: number): string[] {
  return [`a=streamnumber:${n}`, `a=stream:${n}`, `a=streamprofile:${n}`, `a=streamMode:${n === 0 ? 'MAIN' : 'SUB'}`];
}

/**
 * The SDP of a live INVITE as wvp sends it: PS/90000 first (some Dahua firmware refuses
 * another order), then H264 and H265; TCP modes with a=setup and a=connection:new.
 */
export function buildInviteSdp(f: InviteSdpFields): Buffer {
  const tcp = f.mode !== 'udp';
  const lines = [
    'v=0',
    `o=${f.channelId} 0 0 IN IP4 ${f.mediaIp}`,
    `s=${f.sessionName ?? 'Play'}`,
    ...(f.range ? [`u=${f.channelId}:0`] : []),
    `c=IN IP4 ${f.mediaIp}`,
    f.range ? `t=${f.range.start} ${f.range.end}` : 't=0 0',
    `m=video ${f.mediaPort} ${tcp ? 'TCP/RTP/AVP' : 'RTP/AVP'} 96 98 99`,
    'a=recvonly',
    'a=rtpmap:96 PS/90000',
    'a=rtpmap:98 H264/90000',
    'a=rtpmap:99 H265/90000',
    ...(tcp ? [`a=setup:${f.mode === 'tcp-active' ? 'active' : 'passive'}`, 'a=connection:new'] : []),
    ...(f.downloadSpeed ? [`a=downloadspeed:${f.downloadSpeed}`] : []),
    ...(f.streamNumber !== undefined ? streamNumberLines(f.streamNumber) : []),
    `y=${f.ssrc}`,
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
}

/** The video media of an answer and the address/port the device sends from or listens on. */
export function answerVideo(sdp: SessionDescription): { media: MediaDescription; address: string | undefined } | undefined {
  const media = sdp.media.find((m) => m.type === 'video') ?? sdp.media[0];
  if (!media) return undefined;
  return { media, address: media.connection ?? sdp.connection };
}
