import type { StreamStatusDto } from '../../../src/api/dto';
import type { AppContext } from '../app';
import { registerMessages } from '../i18n';

registerMessages('reason', {
  en: {
    live: 'live',
    starting: 'starting…',
    missing: 'No such stream: nothing publishes {path}, and no device, proxy or receiver serves it.',
    'device-offline': 'The device is offline.',
    'device-unknown': 'No such GB28181 device or channel.',
    'invite-refused': 'The camera refused the INVITE.',
    'invite-timeout': 'The camera did not answer the INVITE.',
    'no-rtp': 'No RTP arrived at the media port (the camera was told {address}).',
    'ssrc-mismatch': 'RTP arrives with another SSRC than the one the INVITE asked for.',
    'rtsp-auth': 'The RTSP camera refused the user name or password.',
    'source-error': 'The source failed.',
    ended: 'The stream ended.',
  },
  'zh-CN': {
    live: '直播中',
    starting: '正在启动…',
    missing: '没有这路流：{path} 没有推流，也没有设备、拉流代理或接收端提供它。',
    'device-offline': '设备离线。',
    'device-unknown': '没有这个 GB28181 设备或通道。',
    'invite-refused': '摄像机拒绝了 INVITE 请求。',
    'invite-timeout': '摄像机没有应答 INVITE 请求。',
    'no-rtp': '媒体端口没有收到 RTP（已告知摄像机发往 {address}）。',
    'ssrc-mismatch': '收到的 RTP 的 SSRC 与 INVITE 要求的不一致。',
    'rtsp-auth': 'RTSP 摄像机拒绝了用户名或密码。',
    'source-error': '源出错。',
    ended: '流已结束。',
  },
});

/** The server's reason in the page's language, with the server's own sentence beside it for the details. */
export function reasonText(ctx: AppContext, status: StreamStatusDto): string {
  const said = ctx.t(`reason.${status.state}`, { path: status.path, address: status.mediaAddress ?? '?' });
  // The server's own sentence adds what the translation leaves out (the device's answer, the address); "missing" says it all.
  return status.message && status.message !== said && status.state !== 'missing' ? `${said} (${status.message})` : said;
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

  private async flush(): Promise<void> {
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
