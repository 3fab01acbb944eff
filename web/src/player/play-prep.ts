import type { StreamStatusDto } from '../../../src/api/dto';
import type { AppContext } from '../app';
import { registerMessages } from '../i18n';

registerMessages('reason', {
  en: {
    live: 'live',
    starting: 'starting…',
    missing: 'No such stream: nothing publishes {path}, and no device, proxy or receiver serves it.',
    'device-offline': 'The device {deviceId} is offline.',
    'device-unknown': 'No such GB28181 device or channel.',
    'invite-refused': 'The camera refused the INVITE (SIP {sipStatus}).',
    'invite-timeout': 'The camera did not answer the INVITE.',
    'invite-timeout-seconds': 'The camera did not answer the INVITE within {seconds} s.',
    'no-rtp': 'No RTP arrived at the media port (the camera was told {address}).',
    'ssrc-mismatch': 'RTP arrives at {address} with another SSRC than the {ssrc} the INVITE asked for.',
    'rtsp-auth': 'The RTSP camera refused the user name or password.',
    'source-error': 'The source failed.',
    ended: 'The stream ended.',
    said: 'the source said: {text}',
  },
  'zh-CN': {
    live: '直播中',
    starting: '正在启动…',
    missing: '没有这路流：{path} 没有推流，也没有设备、拉流代理或接收端提供它。',
    'device-offline': '设备 {deviceId} 离线。',
    'device-unknown': '没有这个 GB28181 设备或通道。',
    'invite-refused': '摄像机拒绝了 INVITE 请求（SIP {sipStatus}）。',
    'invite-timeout': '摄像机没有应答 INVITE 请求。',
    'invite-timeout-seconds': '摄像机在 {seconds} 秒内没有应答 INVITE 请求。',
    'no-rtp': '媒体端口没有收到 RTP（已告知摄像机发往 {address}）。',
    'ssrc-mismatch': '发往 {address} 的 RTP 的 SSRC 与 INVITE 要求的 {ssrc} 不一致。',
    'rtsp-auth': 'RTSP 摄像机拒绝了用户名或密码。',
    'source-error': '源出错。',
    ended: '流已结束。',
    said: '源的原话：{text}',
  },
});

/**
 * The server's reason in the page's language, worded from its state and params (SIP status,
 * device, address, SSRC); the source's own untranslated words (`detail`) come apart, as a detail.
 */
export function reasonText(ctx: AppContext, status: StreamStatusDto): { text: string; detail?: string } {
  const params: Record<string, string | number> = { path: status.path, deviceId: '', sipStatus: '?', address: status.mediaAddress ?? '?', ssrc: '?', ...status.params };
  const key = status.state === 'invite-timeout' && params.seconds !== undefined ? 'invite-timeout-seconds' : status.state;
  const text = ctx.t(`reason.${key}`, params).replace(/\s{2,}/g, ' ');
  return status.detail ? { text, detail: ctx.t('reason.said', { text: status.detail }) } : { text };
}

export interface PreparedPlay {
  status: StreamStatusDto;
  /** The signed WebSocket-FLV address of the path. */
  wsFlv: string;
}

type Item = StreamStatusDto & { query?: string };

/**
 * Signs and checks paths for the tiles: the paths asked in the same moment go in one
 * `POST /api/streams/status` (a wall of 16 opens with one request, not 16 waiting for the
 * browser's six connections).
 */
export class PlayPrep {
  private pending = new Map<string, { resolve: (item: Item) => void; reject: (err: Error) => void }[]>();
  private scheduled = false;

  constructor(private readonly ctx: Pick<AppContext, 'api'>) {}

  async prepare(path: string): Promise<PreparedPlay> {
    const item = await this.ask(path);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return { status: item, wsFlv: `${scheme}://${location.host}/${path}.flv${item.query ? `?${item.query}` : ''}` };
  }

  async status(path: string): Promise<StreamStatusDto> {
    return this.ask(path);
  }

  private ask(path: string): Promise<Item> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(path) ?? [];
      waiting.push({ resolve, reject });
      this.pending.set(path, waiting);
      if (this.scheduled) return;
      this.scheduled = true;
      setTimeout(() => void this.flush(), 0);
    });
  }

  /** Sends what was asked so far now, instead of at the end of this moment (the wall sends its tiles' batch before anything else). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    try {
      const { statuses } = await this.ctx.api<{ statuses: Item[] }>('POST', '/api/streams/status', { paths: [...batch.keys()], sign: true });
      for (const item of statuses) for (const waiter of batch.get(item.path) ?? []) waiter.resolve(item);
      for (const [path, waiters] of batch) if (!statuses.some((s) => s.path === path)) for (const w of waiters) w.reject(new Error(`no status for ${path}`));
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err as Error);
    }
  }
}
