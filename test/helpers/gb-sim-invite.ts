import { statSync } from 'node:fs';
import { PS_FIXTURE_H264, RtpFixtureSender, listenForMedia } from './gb-media-sender';
import { header, parseSimpleSdp, token, type RawSip } from './gb-sip-text';
import type { SimDialog, SimulatorOptions } from './gb-sim-options';

/** The dialog an accepted INVITE opens (its RTP sender not started before the ACK) and the SDP answer. */
export interface AcceptedInvite {
  dialog: SimDialog;
  sdp: string;
}

/**
 * Builds the device's side of an INVITE it accepts: PS over RTP from the fixture, over UDP,
 * TCP active (the device connects) or TCP passive (the device listens; Spec: RFC 4571, RFC 4145 setup).
 * Playback and Download play the recording once and call `onEnd` when it is sent.
 */
export async function acceptInvite(rq: RawSip, options: SimulatorOptions, answer: 'ok' | 'no-rtp' | 'no-sdp', onEnd: (dialog: SimDialog) => void): Promise<AcceptedInvite> {
  const offer = parseSimpleSdp(rq.body.toString('latin1'));
  const ssrc = options.ownSsrc ?? offer.ssrc ?? '0';
  const session = offer.session ?? 'Play';
  const dialog: SimDialog = {
    callId: header(rq, 'call-id') ?? '',
    offer,
    ssrc,
    byeReceived: false,
    mediaStarted: false,
    session,
    infos: [],
    endSent: false,
    localTag: token(4),
    remoteFrom: header(rq, 'from') ?? '',
  };
  const recorded = session === 'Playback' || session === 'Download';
  const fixture = recorded ? (options.playbackFixture ?? options.fixture ?? PS_FIXTURE_H264) : (options.fixture ?? PS_FIXTURE_H264);
  const rangeSeconds = options.serveRange && offer.time && offer.time[1] > offer.time[0] ? offer.time[1] - offer.time[0] : undefined;
  const senderOptions = recorded
    ? { loop: rangeSeconds !== undefined, speed: offer.downloadSpeed ?? 1, onEnd: () => onEnd(dialog), ...(rangeSeconds ? { limitSeconds: rangeSeconds } : {}) }
    : {};
  let port = 15060;
  let setup = '';
  if (offer.proto === 'TCP/RTP/AVP' && offer.setup === 'active') {
    const listener = await listenForMedia();
    port = listener.port;
    setup = 'a=setup:passive\r\na=connection:new\r\n';
    if (answer === 'ok') dialog.sender = new RtpFixtureSender(fixture, Number(options.mediaSsrc ?? ssrc), { kind: 'tcp-listen', server: listener.server }, senderOptions);
    else listener.server.close();
  } else if (offer.proto === 'TCP/RTP/AVP') {
    setup = 'a=setup:active\r\na=connection:new\r\n';
    if (answer !== 'no-rtp')
      dialog.sender = new RtpFixtureSender(
        fixture,
        Number(options.mediaSsrc ?? ssrc),
        { kind: 'tcp-connect', host: offer.ip ?? '127.0.0.1', port: offer.port ?? 0 },
        senderOptions,
      );
  } else if (answer !== 'no-rtp') {
    dialog.sender = new RtpFixtureSender(fixture, Number(options.mediaSsrc ?? ssrc), { kind: 'udp', host: offer.ip ?? '127.0.0.1', port: offer.port ?? 0 }, senderOptions);
  }
  const id = options.deviceId;
  // A Download answer may say the file size (Spec: GB/T 28181-2016 §9.9): here the fixture's bytes scaled to the range.
  const download =
    session === 'Download' && rangeSeconds && dialog.sender
      ? `a=downloadspeed:${offer.downloadSpeed ?? 1}\r\na=filesize:${Math.round((statSync(fixture).size * rangeSeconds) / dialog.sender.durationSeconds)}\r\n`
      : '';
  const sdp = `v=0\r\no=${id} 0 0 IN IP4 127.0.0.1\r\ns=${session}\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video ${port} ${offer.proto ?? 'RTP/AVP'} 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\n${setup}${download}y=${ssrc}\r\nf=\r\n`;
  return { dialog, sdp };
}
