import { GatewayError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Source } from '../../core/source';
import type { Registry } from '../../hub/registry';
import type { PortPool } from '../../../rtp/net/port-pool';
import { RtpReceiver } from '../../../rtp/net/rtp-receiver';
import type { GbMediaFactory, GbMediaOpenOptions, GbMediaReceiver } from './media';
import { LazyPublisher } from '../lazy-publisher';
import { PlaybackClock } from './playback-clock';

export interface RtpMediaOptions {
  registry: Registry;
  log: Logger;
  /** Ports for the receivers (rtp.portMin..rtp.portMax); without it the OS picks. */
  pool?: PortPool;
  /** Address the receivers bind. */
  host?: string;
}

/** GB28181 receivers on rtp/net: UDP, TCP passive (the device connects) or TCP active (we connect). */
export function createRtpMediaFactory(options: RtpMediaOptions): GbMediaFactory {
  return async (open: GbMediaOpenOptions): Promise<GbMediaReceiver> => {
    let receiver: RtpReceiver | undefined;
    let closing = false;
    const source: Source = {
      kind: 'gb28181',
      get remote() {
        return receiver?.stats().peer;
      },
      close: (reason: string) => {
        receiver?.close(reason);
      },
    };
    const publisher = new LazyPublisher(
      options.registry,
      open.path,
      source,
      () => open.onFirstPacket(),
      (reason) => receiver?.close(`cannot publish: ${reason}`),
    );
    const clock = new PlaybackClock(publisher);
    receiver = new RtpReceiver({
      transport: open.mode,
      publisher: {
        setTracks: (t) => clock.setTracks(t),
        write: (f) => clock.write(f),
        get resumeDts() {
          return clock.resumeDts;
        },
        addBytesIn: (n) => publisher.addBytesIn(n),
      },
      logger: options.log.child({ stream: open.path }),
      ...(options.pool ? { pool: options.pool } : { port: 0 }),
      ...(options.host ? { host: options.host } : {}),
      ssrc: open.ssrc,
      timeoutMs: open.silenceMs,
    });
    receiver.on('timeout', () => open.onSilent());
    receiver.on('closed', (reason) => {
      publisher.end(reason);
      if (!closing) open.onClosed(publisher.failed ? `cannot publish ${open.path}: ${publisher.failed}` : reason);
    });
    let port: number;
    try {
      port = (await receiver.open()).port;
    } catch (err) {
      throw new GatewayError('SOURCE_START_FAILED', `no RTP port for ${open.mode}: ${errorMessage(err)}`);
    }
    const active = receiver;
    return {
      localPort: port,
      connect: async (host, peerPort) => active.connect({ host, port: peerPort }),
      expectSsrc: (ssrc) => active.setExpectedSsrc(ssrc),
      setSpeed: (speed) => clock.setSpeed(speed),
      holdSilence: (hold) => active.holdTimeout(hold),
      stats: () => {
        const s = active.stats();
        return { packets: s.packets, bytes: s.bytes, peer: s.peer, ssrcMismatches: s.ssrcMismatch, lost: s.lost, reordered: s.reordered };
      },
      close: (reason) => {
        closing = true;
        active.close(reason);
      },
    };
  };
}
