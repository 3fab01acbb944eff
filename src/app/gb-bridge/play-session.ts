import { GatewayError, errorMessage, type ErrorCode } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Dialog } from '../../../sip/gb28181/invite';
import { answerVideo, buildInviteSdp } from '../../../sip/gb28181/sdp';
import type { GbServer } from '../../../sip/gb28181/server';
import { ssrcNumber, type SsrcAllocator } from '../../../sip/gb28181/ssrc';
import type { StreamMode } from '../../core/gb28181';
import type { PlaybackControl } from '../../../sip/gb28181/mansrtsp';
import type { GbMediaFactory, GbMediaReceiver, GbMediaStats } from './media';

export interface PlaySessionDeps {
  gb: Pick<GbServer, 'invite' | 'bye' | 'playbackControl' | 'requestKeyframe'>;
  ssrcs: SsrcAllocator;
  media: GbMediaFactory;
  mediaIp: string;
  mediaTimeoutMs: number;
  log: Logger;
}

export interface PlayTarget {
  path: string;
  deviceId: string;
  channelId: string;
  mode: StreamMode;
  /** Live video, or the device's own recording of `range` (Unix seconds) played back or downloaded. */
  kind?: PlayKind;
  range?: { start: number; end: number };
  /** Download: `a=downloadspeed`, how many times faster than real time the device sends. */
  downloadSpeed?: number;
  /** 1: the channel's sub-stream. */
  streamNumber?: number;
}

export type PlayState = 'inviting' | 'waiting-media' | 'live' | 'ended';
export type PlayKind = 'live' | 'playback' | 'download';

/** A download's media can still be in flight when MediaStatus 121 comes: wait for this much quiet (at most DRAIN_MAX_MS). */
const DRAIN_QUIET_MS = 300;
const DRAIN_MAX_MS = 3000;

/** A live dialog as GET /api/invites shows it. */
export interface PlayInfo {
  path: string;
  deviceId: string;
  channelId: string;
  state: PlayState;
  kind: PlayKind;
  mode: StreamMode;
  ssrc: string;
  /** Playback: paused by the API, and the speed asked for. */
  paused?: boolean;
  speed?: number;
  range?: { start: number; end: number };
  callId?: string;
  localPort?: number;
  /** Where the device said it sends from / listens (its SDP answer). */
  deviceMedia?: string;
  startedAt: number;
  media?: GbMediaStats;
  endReason?: string;
}

/**
 * One live pull of a channel: SSRC, receiver, INVITE, (tcp-active connect), first RTP. Every
 * failure path releases the receiver, the port and the SSRC and says why; a session that went
 * live ends on BYE from the device, silence, or stop().
 */
export class PlaySession {
  state: PlayState = 'inviting';
  /** stop() was called (not a failure of the pull itself). */
  stopRequested = false;
  private ssrc = '';
  private deviceSsrc: string | undefined;
  private receiver: GbMediaReceiver | undefined;
  private dialog: Dialog | undefined;
  private callId: string | undefined;
  private endReason: string | undefined;
  private receiverClosed = false;
  private hangingUp: Promise<void> | undefined;
  private ssrcReleased = false;
  /** The start failed because the device was silent (no answer, no RTP), not because it refused. */
  private startTimedOut = false;
  private readonly startedAt = Date.now();
  paused = false;
  speed = 1;
  /** MediaStatus 121 came: the device sent the whole range. */
  deviceFinished = false;
  private firstPacket: (() => void) | undefined;
  private onEnd: ((reason: string) => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly deps: PlaySessionDeps,
    readonly target: PlayTarget,
  ) {
    this.log = deps.log.child({ stream: target.path });
  }

  get dialogCallId(): string | undefined {
    return this.callId;
  }

  /** Resolves once RTP flows (the receiver has published); rejects with why it could not start. */
  async start(onEnd: (reason: string) => void): Promise<void> {
    this.onEnd = onEnd;
    const { deps, target } = this;
    try {
      this.ssrc = deps.ssrcs.allocate(this.kind === 'live' ? 'live' : 'playback');
      const flowing = new Promise<void>((resolve) => (this.firstPacket = resolve));
      this.receiver = await deps.media({
        path: target.path,
        mode: target.mode,
        ssrc: ssrcNumber(this.ssrc)!,
        silenceMs: deps.mediaTimeoutMs,
        onFirstPacket: () => this.firstPacket?.(),
        onSilent: () => {
          if (this.state !== 'live') this.startTimedOut = true;
          this.end(this.state === 'live' ? `no RTP from device ${target.deviceId} for ${Math.round(deps.mediaTimeoutMs / 1000)} s` : this.noMediaMessage());
        },
        onClosed: (reason) => this.end(this.state === 'waiting-media' && target.mode === 'tcp-active' ? this.connectFailedMessage(reason) : reason),
      });
      this.throwIfEnded();
      const sdp = buildInviteSdp({
        channelId: target.channelId,
        mediaIp: deps.mediaIp,
        mediaPort: this.receiver.localPort,
        mode: target.mode,
        ssrc: this.ssrc,
        ...(this.kind === 'playback' ? { sessionName: 'Playback' as const, range: target.range } : {}),
        ...(this.kind === 'download' ? { sessionName: 'Download' as const, range: target.range, downloadSpeed: target.downloadSpeed ?? 1 } : {}),
        ...(target.streamNumber !== undefined ? { streamNumber: target.streamNumber } : {}),
      });
      this.dialog = await deps.gb.invite(
        { deviceId: target.deviceId, channelId: target.channelId, mediaIp: deps.mediaIp, mediaPort: this.receiver.localPort, mode: target.mode, ssrc: this.ssrc, sdp },
        (callId) => (this.callId = callId),
      );
      this.throwIfEnded();
      this.state = 'waiting-media';
      if (this.kind === 'live') deps.gb.requestKeyframe(target.deviceId, target.channelId);
      this.adoptDeviceSsrc();
      if (target.mode === 'tcp-active') await this.connectActive();
      await this.waitForMedia(flowing);
      this.state = 'live';
      this.log.info({ ssrc: this.deviceSsrc ?? this.ssrc, mode: target.mode, callId: this.callId }, 'GB28181 stream live');
    } catch (err) {
      this.endReason ??= errorMessage(err);
      const reason = this.endReason;
      await this.release(reason);
      throw new GatewayError(this.failureCode(err), `stream ${target.path}: ${reason}`, { cause: err });
    }
  }

  /** Ends the pull: BYE, receiver closed, SSRC released. Idempotent. */
  async stop(reason: string): Promise<void> {
    this.stopRequested = true;
    this.endReason ??= reason;
    this.firstPacket?.();
    await this.release(reason);
  }

  get kind(): PlayKind {
    return this.target.kind ?? 'live';
  }

  /** The SIP dialog's answer (after the INVITE): a download reads the announced file size from it. */
  get answer(): Dialog['answer'] | undefined {
    return this.dialog?.answer;
  }

  /** Pause, resume, seek or speed of a playback (INFO MANSRTSP in its dialog). */
  async control(control: PlaybackControl): Promise<void> {
    if (this.kind !== 'playback') throw new GatewayError('BAD_REQUEST', `stream ${this.target.path} is live video, not a playback`);
    if (this.state !== 'live' || !this.callId) throw new GatewayError('SESSION_NOT_FOUND', `playback ${this.target.path} is not playing (${this.state})`);
    await this.deps.gb.playbackControl(this.callId, control);
    if (control.action === 'pause') {
      this.paused = true;
      this.receiver?.holdSilence(true);
    } else {
      // PLAY (resume, seek, speed) sets a paused playback going again.
      this.paused = false;
      this.receiver?.holdSilence(false);
    }
    if (control.action === 'speed') {
      this.speed = control.speed;
      this.receiver?.setSpeed(control.speed);
    }
    this.log.info({ control }, 'playback control sent');
  }

  /** The device hung up (BYE): end without sending BYE back. */
  dialogEnded(reason: string): void {
    this.dialog = undefined;
    if (this.kind === 'download' && this.state === 'live') void this.drain().then(() => this.end(reason));
    else this.end(reason);
  }

  /** Waits until the receiver got nothing for DRAIN_QUIET_MS (a download's last packets), at most DRAIN_MAX_MS. */
  private async drain(): Promise<void> {
    const until = Date.now() + DRAIN_MAX_MS;
    let packets = this.receiver?.stats().packets ?? 0;
    while (this.state === 'live' && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_QUIET_MS));
      const now = this.receiver?.stats().packets ?? 0;
      if (now === packets) return;
      packets = now;
    }
  }

  info(): PlayInfo {
    const address = this.dialog ? answerVideo(this.dialog.answer) : undefined;
    return {
      path: this.target.path,
      deviceId: this.target.deviceId,
      channelId: this.target.channelId,
      state: this.state,
      kind: this.kind,
      mode: this.target.mode,
      ...(this.kind === 'playback' ? { paused: this.paused, speed: this.speed, range: this.target.range } : {}),
      ...(this.kind === 'download' ? { speed: this.target.downloadSpeed ?? 1, range: this.target.range } : {}),
      ssrc: this.deviceSsrc ?? this.ssrc,
      callId: this.callId,
      localPort: this.receiver?.localPort,
      deviceMedia: address?.address ? `${address.address}:${address.media.port}` : undefined,
      startedAt: this.startedAt,
      media: this.receiver?.stats(),
      endReason: this.endReason,
    };
  }

  private end(reason: string): void {
    if (this.state === 'ended' || this.endReason) return;
    this.endReason = reason;
    const wasLive = this.state === 'live';
    void this.release(reason).then(() => {
      if (wasLive) this.onEnd?.(reason);
    });
    // A session still starting fails through throwIfEnded / waitForMedia.
    this.firstPacket?.();
  }

  /** 504 for a device that stayed silent (INVITE unanswered, no RTP), 502 for one that refused or failed. */
  private failureCode(err: unknown): ErrorCode {
    const silent = err instanceof GatewayError && (err.code === 'TIMEOUT' || err.code === 'SOURCE_START_TIMEOUT');
    return silent || this.startTimedOut ? 'SOURCE_START_TIMEOUT' : 'SOURCE_START_FAILED';
  }

  private throwIfEnded(): void {
    if (this.endReason) throw new GatewayError('SOURCE_START_FAILED', this.endReason);
  }

  private adoptDeviceSsrc(): void {
    const answered = this.dialog?.answer.ssrc;
    if (!answered || answered === this.ssrc || ssrcNumber(answered) === undefined) return;
    if (!this.deps.ssrcs.claim(answered)) this.log.warn({ ssrc: answered }, 'the device chose an SSRC already used by another dialog');
    else this.deviceSsrc = answered;
    this.receiver?.expectSsrc(ssrcNumber(answered)!);
    this.log.info({ offered: this.ssrc, answered }, 'the device answered with its own SSRC: accepted');
  }

  /** tcp-active: connect to where the device listens; a failure arrives through onClosed. */
  private async connectActive(): Promise<void> {
    const address = this.dialog ? answerVideo(this.dialog.answer) : undefined;
    if (!address?.address || !address.media.port) {
      throw new GatewayError('SOURCE_START_FAILED', `device ${this.target.deviceId} answered the tcp-active INVITE without a media address to connect to`);
    }
    await this.receiver!.connect(address.address, address.media.port);
  }

  private connectFailedMessage(reason: string): string {
    const address = this.dialog ? answerVideo(this.dialog.answer) : undefined;
    const where = address?.address ? `${address.address}:${address.media.port}` : 'its answer address';
    return `could not connect to device ${this.target.deviceId} media at ${where} (tcp-active): ${reason}`;
  }

  private noMediaMessage(): string {
    const where = `${this.deps.mediaIp}:${this.receiver?.localPort ?? '?'}`;
    const what = this.state === 'inviting' ? 'got no RTP' : 'accepted the INVITE but sent no RTP';
    return `device ${this.target.deviceId} ${what} to ${where} (${this.target.mode}) within ${Math.round(this.deps.mediaTimeoutMs / 1000)} s: check that sip.mediaIp is reachable from the device`;
  }

  private async waitForMedia(flowing: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GatewayError('SOURCE_START_TIMEOUT', this.noMediaMessage())), this.deps.mediaTimeoutMs);
    });
    try {
      await Promise.race([flowing, silent]);
    } finally {
      clearTimeout(timer);
    }
    this.throwIfEnded();
  }

  /** Frees whatever is held; safe to call again (a dialog confirmed after a stop is hung up then). */
  private async release(reason: string): Promise<void> {
    const first = this.state !== 'ended';
    this.state = 'ended';
    if (this.receiver && !this.receiverClosed) {
      this.receiverClosed = true;
      this.receiver.close(reason);
    }
    if (!this.ssrcReleased) {
      this.ssrcReleased = true;
      if (this.ssrc) this.deps.ssrcs.release(this.ssrc);
      if (this.deviceSsrc) this.deps.ssrcs.release(this.deviceSsrc);
    }
    const callId = this.callId;
    if (callId && this.dialog) {
      this.dialog = undefined;
      this.hangingUp = this.deps.gb.bye(callId, reason).catch(() => undefined);
    }
    await this.hangingUp;
    if (first) this.log.info({ reason }, 'GB28181 pull released');
  }
}
