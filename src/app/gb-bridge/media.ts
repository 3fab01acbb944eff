import type { StreamMode } from '../../core/gb28181';

/**
 * What the GB28181 bridge needs from the media side: a receiver for one INVITE that listens
 * (udp, tcp-passive) or connects (tcp-active), checks the SSRC, demuxes PS into the hub and
 * reports its first packet and its silence. rtp-media.ts builds it from rtp/net.
 */
export interface GbMediaStats {
  packets: number;
  bytes: number;
  /** `ip:port` the RTP came from (or, tcp-active, where we connected). */
  peer?: string;
  /** Packets with another SSRC, dropped. */
  ssrcMismatches?: number;
  lost?: number;
  reordered?: number;
}

export interface GbMediaReceiver {
  /** The local port put in the SDP (for tcp-active, the port we connect from when bound). */
  readonly localPort: number;
  /** tcp-active: connect to where the device listens (its answer's c= and m=). */
  connect(host: string, port: number): Promise<void>;
  /** The SSRC the device will really use (a device may answer with its own y=). */
  expectSsrc(ssrc: number): void;
  stats(): GbMediaStats;
  /** Playback speed: timestamps from now on are divided by it (see PlaybackClock). */
  setSpeed(speed: number): void;
  /** A paused playback: silence does not end it while held. */
  holdSilence(hold: boolean): void;
  /** Stops receiving, ends the publisher, frees the port. Idempotent. */
  close(reason: string): void;
}

export interface GbMediaOpenOptions {
  /** Hub path the receiver publishes to on its first packet. */
  path: string;
  mode: StreamMode;
  ssrc: number;
  /** No packet for this long (after the first): `onSilent`. */
  silenceMs: number;
  onFirstPacket(): void;
  onSilent(): void;
  /** The publisher was kicked or the receiver failed on its own. */
  onClosed(reason: string): void;
}

export type GbMediaFactory = (options: GbMediaOpenOptions) => Promise<GbMediaReceiver>;
