import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import iconv from 'iconv-lite';
import { PS_FIXTURE_H264, RtpFixtureSender, listenForMedia } from './gb-media-sender';
import { authorization, buildRawSip, header, parseChallenge, parseRawSip, parseSimpleSdp, RawSipFramer, token, type RawSip } from './gb-sip-text';
import {
  alarmNotify,
  catalogBodies,
  controlResponse,
  manscdpResponse,
  mediaStatusEnd,
  presetQueryResponse,
  recordInfoBodies,
  type SimChannel,
  type SimRecord,
} from './gb-sim-manscdp';

export type { SimChannel, SimRecord } from './gb-sim-manscdp';

/** 200 and stream, 200 without RTP, 200 without SDP (and stream to the offer), no answer, or a status code. */
export type InviteAnswer = 'ok' | 'no-rtp' | 'no-sdp' | 'ignore' | number;

/** A DeviceControl / DeviceConfig / PresetQuery the device got. */
export interface SimControl {
  cmdType: string;
  targetId: string;
  xml: string;
  ptzCmd?: string;
}

export interface SimulatorOptions {
  deviceId: string;
  serverPort: number;
  serverHost?: string;
  /** Bind here instead of 127.0.0.1 (127.0.0.2 is "another host" on loopback). */
  localHost?: string;
  serverId: string;
  domain: string;
  password: string;
  transport?: 'udp' | 'tcp';
  expires?: number;
  /** Announced in the ConfigDownload answer. */
  heartbeatInterval?: number;
  heartbeatCount?: number;
  channels?: SimChannel[];
  /** Items per Catalog answer message. */
  catalogChunk?: number;
  charset?: 'GB2312' | 'UTF-8';
  /** How the device answers an INVITE: 200 and stream, 200 without RTP, no answer, or a status code. */
  inviteAnswer?: InviteAnswer;
  /** Answer with this y= instead of the offered one. */
  ownSsrc?: string;
  fixture?: string;
  /** Answer SUBSCRIBE with 200 (default) or refuse it. */
  acceptSubscribe?: boolean;
  /** Do not answer queries (a device that registers but ignores MESSAGE). */
  silent?: boolean;
  /** Recordings answered to RecordInfo, `recordChunk` items per message. */
  records?: SimRecord[];
  recordChunk?: number;
  presets?: { id: number; name: string }[];
  /** Result of RecordCmd, GuardCmd, AlarmCmd and DeviceConfig; 'none': never answer them. */
  controlResult?: 'OK' | 'ERROR' | 'none';
  /** Playback/Download media (sent once, then MediaStatus 121); default the live fixture. */
  playbackFixture?: string;
}

export interface SimDialog {
  callId: string;
  offer: ReturnType<typeof parseSimpleSdp>;
  ssrc: string;
  sender?: RtpFixtureSender;
  byeReceived: boolean;
  mediaStarted: boolean;
  /** s= of the INVITE: Play, Playback, Download. */
  session: string;
  /** INFO MANSRTSP bodies received in this dialog. */
  infos: string[];
  /** MediaStatus 121 was sent. */
  endSent: boolean;
  /** Our To tag in the 200 and the platform's From of the INVITE: the dialog's ids (RFC 3261 §12). */
  localTag: string;
  remoteFrom: string;
}

interface PendingRequest {
  resolve: (msg: RawSip | undefined) => void;
  resend: () => void;
  timer: NodeJS.Timeout;
  interval: number;
  startedAt: number;
}

/**
 * A GB28181 device (IPC/NVR) for tests and benchmarks: digest REGISTER, keepalives, answers to
 * DeviceInfo / ConfigDownload / DeviceStatus / Catalog (several messages, GB2312), SUBSCRIBE,
 * INVITE answered with PS over RTP from a real fixture (UDP, TCP passive, TCP active), BYE.
 * Its SIP code is independent of the gateway's (gb-sip-text.ts).
 */
export class GbDeviceSimulator {
  readonly received: RawSip[] = [];
  readonly dialogs = new Map<string, SimDialog>();
  byes = 0;
  invites = 0;
  acks = 0;
  /** 401 answers received to REGISTER. */
  challenges = 0;
  cancels = 0;
  readonly controls: SimControl[] = [];
  private readonly unanswered = new Map<string, RawSip>();
  localPort = 0;
  private udp: UdpSocket | undefined;
  private tcp: Socket | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly callId = `${token(8)}@127.0.0.1`;
  private cseq = 1;
  private nc = 0;
  private challenge: Record<string, string> | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private sn = 1;
  private closed = false;

  constructor(readonly options: SimulatorOptions) {}

  get id(): string {
    return this.options.deviceId;
  }

  private get host(): string {
    return this.options.serverHost ?? '127.0.0.1';
  }

  /** The device's own address (another loopback address plays another host, e.g. 127.0.0.2). */
  private get localHost(): string {
    return this.options.localHost ?? '127.0.0.1';
  }

  private get transportName(): 'UDP' | 'TCP' {
    return this.options.transport === 'tcp' ? 'TCP' : 'UDP';
  }

  /** Opens the socket (UDP on an OS-chosen port, or a TCP connection to the gateway). */
  async start(): Promise<void> {
    if (this.options.transport === 'tcp') {
      const framer = new RawSipFramer();
      this.tcp = await new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host: this.host, port: this.options.serverPort, localAddress: this.localHost }, () => resolve(socket));
        socket.once('error', reject);
      });
      this.tcp.on('error', () => undefined);
      this.tcp.on('data', (chunk: Buffer) => framer.feed(chunk).forEach((m) => this.onData(m)));
      this.localPort = this.tcp.localPort ?? 0;
      return;
    }
    const socket = createSocket('udp4');
    socket.on('message', (data) => this.onData(data));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.bind(0, this.localHost, () => resolve()));
    this.udp = socket;
    this.localPort = socket.address().port;
  }

  /** A new local port, as when a NAT rebinds (the registration stays). */
  async rebind(): Promise<void> {
    this.udp?.close();
    this.tcp?.destroy();
    this.udp = undefined;
    this.tcp = undefined;
    await this.start();
  }

  /** REGISTER, answering a 401 with digest; resolves with the final answer (undefined if none). */
  async register(overrides: { password?: string; expires?: number; reuseChallenge?: boolean; omitExpires?: boolean } = {}): Promise<RawSip | undefined> {
    const expires = overrides.expires ?? this.options.expires ?? 3600;
    const extra: [string, string][] = overrides.omitExpires ? [] : [['Expires', String(expires)]];
    let auth: string | undefined;
    if (overrides.reuseChallenge && this.challenge) auth = this.authFor('REGISTER', overrides.password);
    let answer = await this.request('REGISTER', this.registerUri(), extra, undefined, auth);
    if (answer?.status === 401) {
      this.challenges++;
      this.challenge = parseChallenge(header(answer, 'www-authenticate') ?? '');
      this.nc = 0;
      answer = await this.request('REGISTER', this.registerUri(), extra, undefined, this.authFor('REGISTER', overrides.password));
    }
    return answer;
  }

  /** REGISTER with the Authorization computed for another device's challenge (a foreign nonce). */
  async registerWithChallenge(challenge: Record<string, string>): Promise<RawSip | undefined> {
    this.challenge = challenge;
    this.nc = 0;
    return this.request('REGISTER', this.registerUri(), [['Expires', String(this.options.expires ?? 3600)]], undefined, this.authFor('REGISTER'));
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
    return this.request(method, `sip:${this.options.serverId}@${this.host}:${this.options.serverPort}`, [], undefined, undefined, callId, { from, to });
  }

  /** Re-sends the last Authorization unchanged (same nonce and nc): a replay. */
  async replayRegister(): Promise<RawSip | undefined> {
    this.nc = Math.max(0, this.nc - 1);
    return this.request('REGISTER', this.registerUri(), [['Expires', String(this.options.expires ?? 3600)]], undefined, this.authFor('REGISTER'));
  }

  unregister(): Promise<RawSip | undefined> {
    return this.register({ expires: 0, reuseChallenge: true });
  }

  keepalive(): Promise<RawSip | undefined> {
    const body = this.body(
      `<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>${this.sn++}</SN>\r\n<DeviceID>${this.id}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n`,
    );
    return this.request('MESSAGE', this.serverUri(), [['Content-Type', 'Application/MANSCDP+xml']], body);
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
    return this.request(method, this.serverUri(), [['Content-Type', 'Application/MANSCDP+xml']], this.body(xml));
  }

  /** Sends bytes as they are (malformed-input tests). */
  sendRaw(data: Buffer): void {
    if (this.udp) this.udp.send(data, this.options.serverPort, this.host);
    else this.tcp?.write(data);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopKeepalives();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.pending.clear();
    for (const dialog of this.dialogs.values()) dialog.sender?.stop();
    this.udp?.close();
    this.tcp?.destroy();
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

  private via(branch: string): string {
    return `SIP/2.0/${this.transportName} ${this.localHost}:${this.localPort};rport;branch=${branch}`;
  }

  private request(
    method: string,
    uri: string,
    extra: [string, string][],
    body?: Buffer,
    auth?: string,
    dialogCallId?: string,
    dialogIds?: { from: string; to: string },
  ): Promise<RawSip | undefined> {
    const cseq = this.cseq++;
    const callId = dialogCallId ?? (method === 'REGISTER' ? this.callId : `${token(8)}@127.0.0.1`);
    const toUser = method === 'REGISTER' ? this.id : this.options.serverId;
    const headers: [string, string][] = [
      ['Via', this.via(`z9hG4bK${token(6)}`)],
      ['From', dialogIds?.from ?? `<sip:${this.id}@${this.options.domain}>;tag=${token(4)}`],
      ['To', dialogIds?.to ?? `<sip:${toUser}@${this.options.domain}>`],
      ['Call-ID', callId],
      ['CSeq', `${cseq} ${method}`],
      ['Contact', `<sip:${this.id}@${this.localHost}:${this.localPort}>`],
      ['Max-Forwards', '70'],
      ['User-Agent', 'gb-device-simulator'],
      ...(auth ? ([['Authorization', auth]] as [string, string][]) : []),
      ...extra,
    ];
    const data = buildRawSip(`${method} ${uri} SIP/2.0`, headers, body);
    return new Promise((resolve) => {
      const key = `${callId}/${cseq}`;
      const entry: PendingRequest = { resolve, resend: () => this.sendRaw(data), timer: setTimeout(() => undefined, 0), interval: 500, startedAt: Date.now() };
      const retry = (): void => {
        if (Date.now() - entry.startedAt > 8000 || this.closed) {
          this.pending.delete(key);
          resolve(undefined);
          return;
        }
        if (this.udp) entry.resend();
        entry.interval = Math.min(entry.interval * 2, 4000);
        entry.timer = setTimeout(retry, entry.interval);
      };
      entry.timer = setTimeout(retry, entry.interval);
      this.pending.set(key, entry);
      entry.resend();
    });
  }

  private onData(data: Buffer): void {
    const msg = parseRawSip(data);
    if (!msg || this.closed) return;
    if (msg.status !== undefined) {
      if (msg.status < 200) return;
      const cseq = Number(header(msg, 'cseq')?.split(/\s+/)[0]);
      const key = `${header(msg, 'call-id')}/${cseq}`;
      const pending = this.pending.get(key);
      if (!pending) return;
      this.pending.delete(key);
      clearTimeout(pending.timer);
      pending.resolve(msg);
      return;
    }
    this.received.push(msg);
    if (this.received.length > 2000) this.received.splice(0, 1000);
    void this.onRequest(msg);
  }

  private reply(rq: RawSip, status: number, reason: string, extra: [string, string][] = [], body?: Buffer, toTag = token(4)): void {
    const to = header(rq, 'to') ?? '';
    const headers: [string, string][] = [
      ...(rq.headers.get('via') ?? []).map((v): [string, string] => ['Via', v]),
      ['From', header(rq, 'from') ?? ''],
      ['To', /;tag=/.test(to) ? to : `${to};tag=${toTag}`],
      ['Call-ID', header(rq, 'call-id') ?? ''],
      ['CSeq', header(rq, 'cseq') ?? ''],
      ['User-Agent', 'gb-device-simulator'],
      ...extra,
    ];
    this.sendRaw(buildRawSip(`SIP/2.0 ${status} ${reason}`, headers, body));
  }

  private async onRequest(rq: RawSip): Promise<void> {
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
    const offer = parseSimpleSdp(rq.body.toString('latin1'));
    const callId = header(rq, 'call-id') ?? '';
    const ssrc = this.options.ownSsrc ?? offer.ssrc ?? '0';
    const session = offer.session ?? 'Play';
    const localTag = token(4);
    const dialog: SimDialog = { callId, offer, ssrc, byeReceived: false, mediaStarted: false, session, infos: [], endSent: false, localTag, remoteFrom: header(rq, 'from') ?? '' };
    const recorded = session === 'Playback' || session === 'Download';
    const fixture = recorded ? (this.options.playbackFixture ?? this.options.fixture ?? PS_FIXTURE_H264) : (this.options.fixture ?? PS_FIXTURE_H264);
    const senderOptions = recorded ? { loop: false, speed: offer.downloadSpeed ?? 1, onEnd: () => void this.mediaEnded(dialog) } : {};
    let port = 15060;
    let setup = '';
    if (offer.proto === 'TCP/RTP/AVP' && offer.setup === 'active') {
      const listener = await listenForMedia();
      port = listener.port;
      setup = 'a=setup:passive\r\na=connection:new\r\n';
      if (answer === 'ok') dialog.sender = new RtpFixtureSender(fixture, Number(ssrc), { kind: 'tcp-listen', server: listener.server }, senderOptions);
      else listener.server.close();
    } else if (offer.proto === 'TCP/RTP/AVP') {
      setup = 'a=setup:active\r\na=connection:new\r\n';
      if (answer !== 'no-rtp')
        dialog.sender = new RtpFixtureSender(fixture, Number(ssrc), { kind: 'tcp-connect', host: offer.ip ?? '127.0.0.1', port: offer.port ?? 0 }, senderOptions);
    } else if (answer !== 'no-rtp') {
      dialog.sender = new RtpFixtureSender(fixture, Number(ssrc), { kind: 'udp', host: offer.ip ?? '127.0.0.1', port: offer.port ?? 0 }, senderOptions);
    }
    this.dialogs.set(callId, dialog);
    if (answer === 'no-sdp') {
      this.reply(rq, 200, 'OK', [['Contact', `<sip:${this.id}@${this.localHost}:${this.localPort}>`]], undefined, localTag);
      return;
    }
    const sdp = `v=0\r\no=${this.id} 0 0 IN IP4 127.0.0.1\r\ns=${session}\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video ${port} ${offer.proto ?? 'RTP/AVP'} 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\n${setup}y=${ssrc}\r\nf=\r\n`;
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
    await this.request('MESSAGE', this.serverUri(), [['Content-Type', 'Application/MANSCDP+xml']], this.body(mediaStatusEnd(this.id, this.sn++)), undefined, dialog.callId);
  }

  private startMedia(callId: string): void {
    const dialog = this.dialogs.get(callId);
    if (!dialog?.sender || dialog.byeReceived || dialog.mediaStarted) return;
    dialog.mediaStarted = true;
    dialog.sender.start();
  }
}
