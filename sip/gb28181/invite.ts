import { GatewayError, ParseError, errorMessage } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { parseUri, type NameAddr, type SipRequest, type SipResponse } from '../message';
import type { IncomingRequest, SipStack } from '../stack';
import type { SipRemote } from '../transport';
import { parseSdp, type SessionDescription } from '../../src/formats/sdp/sdp';

/** Where an in-dialog request goes and who it is for. */
export interface InviteTarget {
  deviceId: string;
  channelId: string;
  remote: SipRemote;
  /** Request-URI: `sip:{channelId}@{device address}`. */
  requestUri: string;
}

const BYE_WAIT_MS = 2000;

export type DialogState = 'confirmed' | 'terminated';

/** A live INVITE dialog with a device. */
export interface Dialog {
  readonly callId: string;
  readonly deviceId: string;
  readonly channelId: string;
  readonly remote: SipRemote;
  readonly from: NameAddr;
  readonly to: NameAddr;
  /** Where in-dialog requests go (the 2xx Contact). */
  readonly remoteTarget: string;
  readonly answer: SessionDescription;
  /** The 200 OK carried no SDP: the offer was taken as accepted as sent. */
  readonly answerFromOffer?: boolean;
  readonly inviteCseq: number;
  readonly establishedAt: number;
  cseq: number;
  state: DialogState;
  endReason?: string;
}

export interface InviteOptions {
  sdp: Buffer;
  /** Subject: `{channelId}:{ssrc},{our id}:0` (GB/T 28181-2016 §9.2.2.1). */
  subject: string;
  timeoutMs: number;
}

/** What is kept of a confirmed dialog so that a restarted gateway can still BYE it. */
export interface StoredDialog {
  callId: string;
  deviceId: string;
  channelId: string;
  remote: SipRemote;
  from: NameAddr;
  to: NameAddr;
  remoteTarget: string;
  cseq: number;
}

/** Dialogs in storage (migration 005, gb_dialogs): saved when confirmed, removed when ended. */
export interface GbDialogStore {
  save(dialog: StoredDialog): void;
  remove(callId: string): void;
  list(): StoredDialog[];
}

export interface InviteHooks {
  /** The device ended the dialog (BYE), or it was torn down. */
  ended(dialog: Dialog, reason: string): void;
  /** A device bent the rules (shown in its SIP log). */
  warn?(deviceId: string, callId: string, text: string): void;
  /** Keeps dialogs across a restart. */
  store?: GbDialogStore;
}

/**
 * The INVITE client side of live play: INVITE, ACK of the 2xx (again for each retransmitted
 * 2xx), BYE either way, and clean-up of late answers after a timeout (ACK then BYE, so the
 * device does not keep streaming to nobody).
 * Spec: RFC 3261 §13, §15; GB/T 28181-2016 §9.2
 */
export class InviteClient {
  private readonly dialogs = new Map<string, Dialog>();

  constructor(
    private readonly stack: SipStack,
    private readonly self: { id: string; domain: string },
    private readonly hooks: InviteHooks,
    private readonly log: Logger,
  ) {}

  list(): Dialog[] {
    return [...this.dialogs.values()];
  }

  get(callId: string): Dialog | undefined {
    return this.dialogs.get(callId);
  }

  /** Sends the INVITE; resolves with the confirmed dialog, rejects with why it failed. */
  async invite(target: InviteTarget, options: InviteOptions, onCallId?: (callId: string) => void): Promise<Dialog> {
    const request = this.stack.newRequest({
      method: 'INVITE',
      uri: target.requestUri,
      from: { uri: `sip:${this.self.id}@${this.self.domain}`, params: {} },
      to: { uri: `sip:${target.channelId}@${this.self.domain}`, params: {} },
      contact: true,
      contentType: 'APPLICATION/SDP',
      content: options.sdp,
      headers: { subject: options.subject },
    });
    const callId = request.headers['call-id'];
    onCallId?.(callId);
    const what = `the INVITE for channel ${target.channelId} of device ${target.deviceId}`;
    let abandoned = false;
    let dialog: Dialog | undefined;
    const answered = this.stack.request(request, target.remote, {
      onRetransmitted2xx: (response) => this.ack(request, response, target.remote),
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abandoned = true;
        this.cancel(request, target);
        reject(new GatewayError('TIMEOUT', `device ${target.deviceId} did not answer ${what} within ${Math.round(options.timeoutMs / 1000)} s`));
      }, options.timeoutMs);
    });
    answered.then(
      (response) => {
        // A 2xx after we gave up: confirm and hang up at once.
        if (abandoned && response.status < 300) {
          this.ack(request, response, target.remote);
          const late = this.makeDialog(target, request, response, { media: [] });
          void this.sendBye(late, 'answered after the INVITE timed out');
        }
      },
      () => undefined,
    );
    let response: SipResponse;
    try {
      response = await Promise.race([answered, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (response.status === 408) {
      // The stack's own 408 when the transaction timed out (or the device saying it timed out).
      throw new GatewayError('TIMEOUT', `device ${target.deviceId} did not answer ${what} (408 ${response.reason || 'Request Timeout'})`);
    }
    if (response.status >= 300) {
      throw new GatewayError('SOURCE_START_FAILED', `device ${target.deviceId} answered ${response.status} ${response.reason || ''} to ${what}`.replace(/\s+to /, ' to '));
    }
    this.ack(request, response, target.remote);
    let answer: SessionDescription;
    let answerFromOffer = false;
    try {
      if (!response.content?.length) {
        // Some camera firmware answers 200 with no body: it takes the offer as it is.
        answer = parseSdp(options.sdp);
        answerFromOffer = true;
        const text = `device ${target.deviceId} answered ${what} with 200 OK without SDP: taken as accepting the offer as sent`;
        this.log.warn({ device: target.deviceId, callId }, text);
        this.hooks.warn?.(target.deviceId, callId, text);
      } else {
        answer = parseSdp(response.content);
      }
      if (answer.media.length === 0) throw new ParseError('no m= line');
    } catch (err) {
      dialog = this.makeDialog(target, request, response, { media: [] });
      void this.sendBye(dialog, 'unreadable SDP answer');
      throw new GatewayError('SOURCE_START_FAILED', `device ${target.deviceId} answered ${what} with unreadable SDP: ${errorMessage(err)}`);
    }
    dialog = { ...this.makeDialog(target, request, response, answer), ...(answerFromOffer ? { answerFromOffer } : {}) };
    this.dialogs.set(callId, dialog);
    this.persist(() => this.hooks.store?.save(storedOf(dialog!)));
    this.log.info({ device: target.deviceId, channel: target.channelId, callId }, 'INVITE dialog established');
    return dialog;
  }

  /** Ends a dialog with BYE (idempotent); resolves when the device answered or gave up. */
  async bye(callId: string, reason: string): Promise<void> {
    const dialog = this.dialogs.get(callId);
    if (!dialog || dialog.state === 'terminated') return;
    this.terminate(dialog, reason);
    await this.sendBye(dialog, reason);
  }

  /** Sends a request inside a confirmed dialog (INFO for playback control); resolves with the answer. */
  async inDialog(callId: string, method: string, contentType: string, content: Buffer): Promise<SipResponse> {
    const dialog = this.dialogs.get(callId);
    if (!dialog || dialog.state !== 'confirmed') throw new GatewayError('SESSION_NOT_FOUND', `no confirmed dialog ${callId}`);
    const request = this.stack.newRequest({ method, uri: dialog.remoteTarget, from: dialog.from, to: dialog.to, callId, cseq: ++dialog.cseq, contentType, content });
    request.headers.from = dialog.from;
    return this.stack.request(request, dialog.remote);
  }

  /** A BYE from a device: true if it matched one of our dialogs. */
  /**
   * The dialog an in-dialog request from a device belongs to: same Call-ID, its From tag is the
   * device's tag and its To tag ours, and it comes from the device's IP. Anything else (a BYE
   * with a Call-ID alone, from anywhere) matches nothing.
   * Spec: RFC 3261 §12.2.2
   */
  match(incoming: IncomingRequest): Dialog | undefined {
    const { request, remote } = incoming;
    const dialog = this.dialogs.get(request.headers['call-id']);
    if (!dialog) return undefined;
    const theirTag = request.headers.from?.params.tag;
    const ourTag = request.headers.to?.params.tag;
    const tagsMatch = !!theirTag && !!ourTag && theirTag === dialog.to.params.tag && ourTag === dialog.from.params.tag;
    return tagsMatch && remote.address === dialog.remote.address ? dialog : undefined;
  }

  handleBye(incoming: IncomingRequest): boolean {
    const dialog = this.match(incoming);
    if (!dialog) return false;
    incoming.reply(200, 'OK');
    this.terminate(dialog, `device ${dialog.deviceId} sent BYE`);
    return true;
  }

  /** Hangs up every dialog (shutdown); waits at most `waitMs` for the answers. */
  async close(reason: string, waitMs = 500): Promise<void> {
    const byes = [...this.dialogs.keys()].map((callId) => this.bye(callId, reason));
    await Promise.race([Promise.allSettled(byes), new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
    this.dialogs.clear();
  }

  /**
   * Dialogs a previous run left open (it crashed or was killed): BYE each one, so cameras stop
   * sending to a port nobody reads, and forget them. Resolves with how many there were.
   */
  async byeStale(reason: string): Promise<number> {
    const stale = this.hooks.store?.list() ?? [];
    await Promise.all(
      stale.map(async (stored) => {
        this.persist(() => this.hooks.store?.remove(stored.callId));
        const dialog: Dialog = {
          ...stored,
          answer: { media: [] } as unknown as SessionDescription,
          inviteCseq: stored.cseq,
          establishedAt: 0,
          state: 'terminated',
          endReason: reason,
        };
        this.log.info({ device: stored.deviceId, channel: stored.channelId, callId: stored.callId }, 'BYE to a dialog left open before the restart');
        await this.sendBye(dialog, reason);
      }),
    );
    return stale.length;
  }

  private persist(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.log.error({ err }, 'storing the dialog failed');
    }
  }

  private terminate(dialog: Dialog, reason: string): void {
    if (dialog.state === 'terminated') return;
    this.persist(() => this.hooks.store?.remove(dialog.callId));
    dialog.state = 'terminated';
    dialog.endReason = reason;
    this.dialogs.delete(dialog.callId);
    this.log.info({ device: dialog.deviceId, channel: dialog.channelId, callId: dialog.callId, reason }, 'INVITE dialog ended');
    try {
      this.hooks.ended(dialog, reason);
    } catch (err) {
      this.log.error({ err }, 'dialog end hook failed');
    }
  }

  private makeDialog(target: InviteTarget, request: SipRequest, response: SipResponse, answer: SessionDescription): Dialog {
    const contact = Array.isArray(response.headers.contact) ? response.headers.contact[0]?.uri : undefined;
    return {
      callId: request.headers['call-id'],
      deviceId: target.deviceId,
      channelId: target.channelId,
      remote: target.remote,
      from: request.headers.from,
      to: response.headers.to,
      remoteTarget: contact && parseUri(contact) ? contact : target.requestUri,
      answer,
      inviteCseq: request.headers.cseq.seq,
      establishedAt: Date.now(),
      cseq: request.headers.cseq.seq,
      state: 'confirmed',
    };
  }

  /**
   * The INVITE timed out: CANCEL it, so the device stops setting up the call (its 487 to the
   * INVITE is ACKed by the transaction layer). Sent even without a provisional answer: many
   * devices send none, and without it a device that answers late keeps a half-open call.
   */
  private cancel(request: SipRequest, target: InviteTarget): void {
    this.stack.cancel(request, target.remote).then(
      (response) => this.log.info({ device: target.deviceId, callId: request.headers['call-id'], status: response.status }, 'INVITE timed out: CANCEL sent'),
      (err: unknown) => this.log.debug({ callId: request.headers['call-id'], err: errorMessage(err) }, 'CANCEL not sent'),
    );
  }

  /** ACK for a 2xx: a new transaction-less request (RFC 3261 §13.2.2.4). */
  private ack(request: SipRequest, response: SipResponse, remote: SipRemote): void {
    const contact = Array.isArray(response.headers.contact) ? response.headers.contact[0]?.uri : undefined;
    const ack = this.stack.newRequest({
      method: 'ACK',
      uri: contact && parseUri(contact) ? contact : request.uri,
      from: request.headers.from,
      to: response.headers.to,
      callId: request.headers['call-id'],
      cseq: request.headers.cseq.seq,
    });
    ack.headers.from = request.headers.from;
    this.stack.sendStateless(ack, remote);
  }

  private async sendBye(dialog: Dialog, reason: string): Promise<void> {
    const bye = this.stack.newRequest({
      method: 'BYE',
      uri: dialog.remoteTarget,
      from: dialog.from,
      to: dialog.to,
      callId: dialog.callId,
      cseq: ++dialog.cseq,
    });
    bye.headers.from = dialog.from;
    // Wait a little for the answer (the transaction keeps retransmitting on its own).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), BYE_WAIT_MS)));
    try {
      const response = await Promise.race([this.stack.request(bye, dialog.remote), gaveUp]);
      this.log.debug({ callId: dialog.callId, status: response?.status, reason }, response ? 'BYE answered' : 'BYE not answered yet');
    } catch (err) {
      this.log.debug({ callId: dialog.callId, err: errorMessage(err) }, 'BYE not answered');
    } finally {
      clearTimeout(timer);
    }
  }
}

function storedOf(d: Dialog): StoredDialog {
  return { callId: d.callId, deviceId: d.deviceId, channelId: d.channelId, remote: d.remote, from: d.from, to: d.to, remoteTarget: d.remoteTarget, cseq: d.cseq };
}
