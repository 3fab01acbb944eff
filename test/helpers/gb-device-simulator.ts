import iconv from 'iconv-lite';
import { authorization, header, parseChallenge, token, type RawSip } from './gb-sip-text';
import { SimSipEndpoint, type RequestParts } from './gb-sim-endpoint';
import { acceptInvite } from './gb-sim-invite';
import { alarmNotify, catalogBodies, controlResponse, manscdpResponse, mediaStatusEnd, presetQueryResponse, recordInfoBodies } from './gb-sim-manscdp';
import type { SimControl, SimDialog } from './gb-sim-options';

export type { SimChannel, SimRecord } from './gb-sim-manscdp';
export type { InviteAnswer, SimControl, SimDialog, SimulatorOptions } from './gb-sim-options';

function manscdp(body: Buffer): RequestParts {
  return { extra: [['Content-Type', 'Application/MANSCDP+xml']], body };
}

/**
 * A GB28181 device (IPC/NVR) for tests and benchmarks: digest REGISTER, keepalives, answers to
 * DeviceInfo / ConfigDownload / DeviceStatus / Catalog (several messages, GB2312), SUBSCRIBE,
 * INVITE answered with PS over RTP from a real fixture (UDP, TCP passive, TCP active), BYE.
 * Its SIP code is independent of the gateway's (gb-sip-text.ts).
 */
export class GbDeviceSimulator extends SimSipEndpoint {
  readonly dialogs = new Map<string, SimDialog>();
  byes = 0;
  invites = 0;
  acks = 0;
  /** 401 answers received to REGISTER. */
  challenges = 0;
  cancels = 0;
  readonly controls: SimControl[] = [];
  private readonly unanswered = new Map<string, RawSip>();
  private nc = 0;
  private challenge: Record<string, string> | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private sn = 1;

  /** REGISTER, answering a 401 with digest; resolves with the final answer (undefined if none). */
  async register(overrides: { password?: string; expires?: number; reuseChallenge?: boolean; omitExpires?: boolean } = {}): Promise<RawSip | undefined> {
    const expires = overrides.expires ?? this.options.expires ?? 3600;
    const extra: [string, string][] = overrides.omitExpires ? [] : [['Expires', String(expires)]];
    let auth: string | undefined;
    if (overrides.reuseChallenge && this.challenge) auth = this.authFor('REGISTER', overrides.password);
    let answer = await this.request('REGISTER', this.registerUri(), { extra, ...(auth ? { auth } : {}) });
    if (answer?.status === 401) {
      this.challenges++;
      this.challenge = parseChallenge(header(answer, 'www-authenticate') ?? '');
      this.nc = 0;
      answer = await this.request('REGISTER', this.registerUri(), { extra, auth: this.authFor('REGISTER', overrides.password) });
    }
    return answer;
  }

  /** REGISTER with the Authorization computed for another device's challenge (a foreign nonce). */
  async registerWithChallenge(challenge: Record<string, string>): Promise<RawSip | undefined> {
    this.challenge = challenge;
    this.nc = 0;
    return this.request('REGISTER', this.registerUri(), { extra: [['Expires', String(this.options.expires ?? 3600)]], auth: this.authFor('REGISTER') });
  }

  /** The last challenge this device got. */
  get lastChallenge(): Record<string, string> | undefined {
    return this.challenge;
  }

  /** The device hangs up a play dialog (BYE from the device, with the dialog's tags unless `tags` says otherwise). */
  hangUp(callId: string, tags: { from?: string; to?: string } = {}): Promise<RawSip | undefined> {
    this.dialogs.get(callId)?.sender?.stop();
    return this.inDialog('BYE', callId, tags);
  }

  /** An in-dialog request (BYE, INFO, re-INVITE) with the dialog's Call-ID and tags, or the `tags` given. */
  inDialog(method: 'BYE' | 'INFO' | 'INVITE', callId: string, tags: { from?: string; to?: string } = {}): Promise<RawSip | undefined> {
    const dialog = this.dialogs.get(callId);
    const from = `<sip:${this.id}@${this.options.domain}>;tag=${tags.from ?? dialog?.localTag ?? token(4)}`;
    const to =
      tags.to !== undefined
        ? `<sip:${this.options.serverId}@${this.options.domain}>;tag=${tags.to}`
        : (dialog?.remoteFrom ?? `<sip:${this.options.serverId}@${this.options.domain}>`);
    return this.request(method, this.serverUri(), { extra: [], callId, dialogIds: { from, to } });
  }

  /** Re-sends the last Authorization unchanged (same nonce and nc): a replay. */
  async replayRegister(): Promise<RawSip | undefined> {
    this.nc = Math.max(0, this.nc - 1);
    return this.request('REGISTER', this.registerUri(), { extra: [['Expires', String(this.options.expires ?? 3600)]], auth: this.authFor('REGISTER') });
  }

  unregister(): Promise<RawSip | undefined> {
    return this.register({ expires: 0, reuseChallenge: true });
  }

  keepalive(): Promise<RawSip | undefined> {
    const body = this.body(
      `<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>${this.sn++}</SN>\r\n<DeviceID>${this.id}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n`,
    );
    return this.request('MESSAGE', this.serverUri(), manscdp(body));
  }

  startKeepalives(intervalMs: number): void {
    this.stopKeepalives();
    this.keepaliveTimer = setInterval(() => void this.keepalive(), intervalMs);
  }

  stopKeepalives(): void {
    clearInterval(this.keepaliveTimer);
  }

  /** Sends a MESSAGE/NOTIFY with a MANSCDP body (tests of notifications). */
  sendManscdp(method: 'MESSAGE' | 'NOTIFY', xml: string): Promise<RawSip | undefined> {
    return this.request(method, this.serverUri(), manscdp(this.body(xml)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stopKeepalives();
    for (const dialog of this.dialogs.values()) dialog.sender?.stop();
    this.closeTransport();
  }

  private registerUri(): string {
    return `sip:${this.options.serverId}@${this.options.domain}`;
  }

  private serverUri(): string {
    return `sip:${this.options.serverId}@${this.host}:${this.options.serverPort}`;
  }

  private authFor(method: string, password = this.options.password): string {
    return authorization({ username: this.id, password, method, uri: this.registerUri(), challenge: this.challenge ?? {}, nc: ++this.nc });
  }

  private body(xml: string): Buffer {
    return this.options.charset === 'UTF-8' ? Buffer.from(xml.replace('GB2312', 'UTF-8'), 'utf8') : iconv.encode(xml, 'gb2312');
  }

  protected async onRequest(rq: RawSip): Promise<void> {
    switch (rq.method) {
      case 'MESSAGE':
        if (this.options.silent) return;
        this.reply(rq, 200, 'OK');
        await this.answerQuery(rq);
        return;
      case 'SUBSCRIBE':
        if (this.options.acceptSubscribe === false) this.reply(rq, 489, 'Bad Event');
        else this.reply(rq, 200, 'OK', [['Expires', header(rq, 'expires') ?? '3600']]);
        return;
      case 'INVITE':
        await this.answerInvite(rq);
        return;
      case 'INFO':
        this.reply(rq, this.onInfo(rq) ? 200 : 481, 'OK');
        return;
      case 'CANCEL': {
        this.cancels++;
        const invite = this.unanswered.get(header(rq, 'call-id') ?? '');
        this.reply(rq, invite ? 200 : 481, invite ? 'OK' : 'Call Does Not Exist');
        if (invite) this.reply(invite, 487, 'Request Terminated');
        return;
      }
      case 'ACK':
        this.acks++;
        this.startMedia(header(rq, 'call-id') ?? '');
        return;
      case 'BYE': {
        this.byes++;
        const dialog = this.dialogs.get(header(rq, 'call-id') ?? '');
        if (dialog) {
          dialog.byeReceived = true;
          dialog.sender?.stop();
        }
        this.reply(rq, dialog ? 200 : 481, dialog ? 'OK' : 'Call Does Not Exist');
        return;
      }
      default:
        this.reply(rq, 405, 'Method Not Allowed');
    }
  }

  private async answerQuery(rq: RawSip): Promise<void> {
    const xml = iconv.decode(rq.body, 'gb18030');
    const cmdType = /<CmdType>(\w+)<\/CmdType>/.exec(xml)?.[1];
    const sn = /<SN>(\d+)<\/SN>/.exec(xml)?.[1] ?? '0';
    if (!cmdType) return;
    const targetId = /<DeviceID>(\w+)<\/DeviceID>/.exec(xml)?.[1] ?? this.id;
    if (cmdType === 'RecordInfo') {
      for (const body of recordInfoBodies(targetId, sn, this.options.records ?? [], this.options.recordChunk ?? 10)) await this.sendManscdp('MESSAGE', body);
      return;
    }
    if (cmdType === 'DeviceControl' || cmdType === 'DeviceConfig' || cmdType === 'PresetQuery') {
      await this.answerControl(cmdType, targetId, sn, xml);
      return;
    }
    if (cmdType === 'Catalog') {
      for (const body of catalogBodies(this.id, sn, this.options.channels ?? [], this.options.catalogChunk ?? 20)) {
        await this.sendManscdp('MESSAGE', body);
      }
      return;
    }
    const body = manscdpResponse(cmdType, this.id, sn, this.options);
    if (body) await this.sendManscdp('MESSAGE', body);
  }

  private async answerControl(cmdType: string, targetId: string, sn: string, xml: string): Promise<void> {
    const ptzCmd = /<PTZCmd>([0-9A-Fa-f]+)<\/PTZCmd>/.exec(xml)?.[1];
    this.controls.push({ cmdType, targetId, xml, ...(ptzCmd ? { ptzCmd } : {}) });
    if (cmdType === 'PresetQuery') {
      await this.sendManscdp('MESSAGE', presetQueryResponse(targetId, sn, this.options.presets ?? []));
      return;
    }
    const confirmed = cmdType === 'DeviceConfig' || /<(?:RecordCmd|GuardCmd|AlarmCmd)>/.test(xml);
    const result = this.options.controlResult ?? 'OK';
    if (confirmed && result !== 'none') await this.sendManscdp('MESSAGE', controlResponse(cmdType, targetId, sn, result));
  }

  /** An Alarm NOTIFY (or MESSAGE) for one of the device's channels. */
  sendAlarm(
    channelId: string,
    alarm: { priority: number; method: number; type?: number; timeMs?: number; description?: string },
    method: 'MESSAGE' | 'NOTIFY' = 'MESSAGE',
  ): Promise<RawSip | undefined> {
    return this.sendManscdp(method, alarmNotify(channelId, this.sn++, { timeMs: Date.now(), ...alarm }));
  }

  /** INFO MANSRTSP in a playback dialog: PAUSE, PLAY (Range: npt=now- | npt=N-), Scale. */
  private onInfo(rq: RawSip): boolean {
    const dialog = this.dialogs.get(header(rq, 'call-id') ?? '');
    if (!dialog) return false;
    const body = rq.body.toString('latin1');
    dialog.infos.push(body);
    const sender = dialog.sender;
    if (/^PAUSE /.test(body)) sender?.pause();
    const range = /Range:\s*npt=(now|[\d.]+)-/i.exec(body)?.[1];
    if (range === 'now') sender?.resume();
    else if (range !== undefined) sender?.seek(Number(range));
    const scale = /Scale:\s*([\d.]+)/i.exec(body)?.[1];
    if (scale) {
      sender?.setSpeed(Number(scale));
      sender?.resume();
    }
    return true;
  }

  private async answerInvite(rq: RawSip): Promise<void> {
    this.invites++;
    const answer = this.options.inviteAnswer ?? 'ok';
    if (answer === 'ignore') {
      this.unanswered.set(header(rq, 'call-id') ?? '', rq);
      return;
    }
    if (typeof answer === 'number') {
      this.reply(rq, answer, answer === 488 ? 'Not Acceptable Here' : 'Rejected');
      return;
    }
    const { dialog, sdp } = await acceptInvite(rq, this.options, answer, (d) => void this.mediaEnded(d));
    const callId = dialog.callId;
    const localTag = dialog.localTag;
    this.dialogs.set(callId, dialog);
    if (answer === 'no-sdp') {
      this.reply(rq, 200, 'OK', [['Contact', `<sip:${this.id}@${this.localHost}:${this.localPort}>`]], undefined, localTag);
      return;
    }
    this.reply(
      rq,
      200,
      'OK',
      [
        ['Contact', `<sip:${this.id}@${this.localHost}:${this.localPort}>`],
        ['Content-Type', 'APPLICATION/SDP'],
      ],
      Buffer.from(sdp, 'latin1'),
      localTag,
    );
  }

  /** The recording played to its end: MediaStatus 121 in the dialog (same Call-ID). */
  private async mediaEnded(dialog: SimDialog): Promise<void> {
    if (dialog.byeReceived || dialog.endSent) return;
    dialog.endSent = true;
    await this.request('MESSAGE', this.serverUri(), { ...manscdp(this.body(mediaStatusEnd(this.id, this.sn++))), callId: dialog.callId });
  }

  private startMedia(callId: string): void {
    const dialog = this.dialogs.get(callId);
    if (!dialog?.sender || dialog.byeReceived || dialog.mediaStarted) return;
    dialog.mediaStarted = true;
    dialog.sender.start();
  }
}
