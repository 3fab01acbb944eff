import type { AdmissionRequest, AdmissionResult } from '../../core/admission';
import type { GatewayConfig } from '../../config/schema';
import type { Registry } from '../../hub/registry';
import { ConsoleSessions, safeEqual } from './console-sessions';
import { deriveKey, ipOf, signToken, verifyToken, type TokenAction } from './tokens';

/** Who feeds a path that publishers may never take over (GB28181, RTSP proxy, RTP receiver). */
export type PathOwner = (path: string) => string | undefined;

export interface SignRequest {
  path: string;
  action?: TokenAction;
  /** Seconds from now; default auth.tokenTtl. */
  expiresIn?: number;
  /** Bind the token to this client IP. */
  ip?: string;
}

export interface SignedUrl {
  path: string;
  action: TokenAction;
  token: string;
  /** Epoch seconds. */
  expiresAt: number;
  /** `token=...` (play) or `sign=...` (publish), to append to any URL of the path. */
  query: string;
}

const ALLOW: AdmissionResult = { allow: true };
/** `rtp/...` is where GB28181 channels and RTP receivers publish: never an outside publisher's. */
const RESERVED_APPS = new Set(['rtp']);

/**
 * Access rules of the gateway: the admin secret and console logins for the API, publish keys
 * and signed URLs for publishers, signed play URLs for viewers (auth.play), and the paths no
 * publisher may take over. Its two admission checks plug into `registry.admission`.
 */
export class AccessControl {
  readonly sessions: ConsoleSessions;
  private readonly tokenKey: Buffer;
  /** The last publisher of each live path (kind and address), to guard its reconnect grace. */
  private readonly lastPublisher = new Map<string, { kind: string; ip: string }>();

  constructor(
    private readonly auth: GatewayConfig['auth'],
    private readonly registry: Registry,
    private readonly ownerOf: PathOwner,
    private readonly now: () => number = Date.now,
  ) {
    this.sessions = new ConsoleSessions(auth.sessionTtl * 1000);
    this.tokenKey = deriveKey(auth.secret, 'signed-urls');
    registry.events.on('publish', (path, source) => this.lastPublisher.set(path, { kind: source.kind, ip: ipOf(source.remote) }));
    registry.events.on('streamEnd', (path) => this.lastPublisher.delete(path));
  }

  get playMode(): GatewayConfig['auth']['play'] {
    return this.auth.play;
  }

  isAdminSecret(value: string | undefined): boolean {
    return safeEqual(value, this.auth.secret);
  }

  sign(request: SignRequest): SignedUrl {
    const action = request.action ?? 'play';
    const expiresAt = Math.floor(this.now() / 1000) + (request.expiresIn ?? this.auth.tokenTtl);
    const token = signToken(this.tokenKey, { action, path: request.path, expiresAt, ip: request.ip });
    return { path: request.path, action, token, expiresAt, query: `${action === 'play' ? 'token' : 'sign'}=${token}` };
  }

  /** The query a URL made by the gateway itself carries so that it plays under auth.play. */
  playQuery(path: string): string {
    return this.auth.play === 'token' ? `?${this.sign({ path }).query}` : '';
  }

  /**
   * What an RTSP client's Basic/Digest password stands for (src/protocols/rtsp/server-auth.ts):
   * publish proves auth.publishKey (any user name); play under auth.play: token proves a signed
   * play token given as both user name and password (Digest needs the password before it can
   * check one, and the token itself is what says who may watch).
   */
  rtspCredential = (action: 'play' | 'publish', username: string): { password: string; query: Record<string, string> } | undefined => {
    if (action === 'publish') return { password: this.auth.publishKey, query: { key: this.auth.publishKey } };
    if (this.auth.play !== 'token' || username === '') return undefined;
    return { password: username, query: { token: username } };
  };

  /** Admission check for `publish`: a key or signed URL, no takeover of owned paths or of a reconnect grace. */
  publishCheck = (request: AdmissionRequest): AdmissionResult => {
    if (request.action !== 'publish' || request.internal) return ALLOW;
    const owner = this.ownedBy(request.path);
    if (owner) return { allow: false, status: 'forbidden', reason: `${request.path} is fed by ${owner}: a publisher cannot take it over` };
    const signed = this.verify('publish', request, request.query.sign);
    if (request.query.sign !== undefined && !signed.ok) return { allow: false, status: 'forbidden', reason: `publish refused: ${signed.reason}` };
    if (!signed.ok && !safeEqual(request.query.key, this.auth.publishKey)) {
      return request.query.key === undefined
        ? { allow: false, status: 'unauthorized', reason: 'publishing needs ?key=<auth.publishKey> after the stream name, or a signed URL (?sign=)' }
        : { allow: false, status: 'forbidden', reason: 'publish refused: wrong publish key' };
    }
    if (!signed.ok && this.registry.get(request.path)?.state === 'grace' && !this.sameSource(request)) {
      return {
        allow: false,
        status: 'forbidden',
        reason: `${request.path} is waiting for its publisher to reconnect: only the same source or a signed URL (?sign=) may resume it`,
      };
    }
    return ALLOW;
  };

  /** Admission check for `play` under auth.play: `token` needs a valid signed URL. */
  playCheck = (request: AdmissionRequest): AdmissionResult => {
    if (request.action !== 'play' || request.internal || this.auth.play !== 'token') return ALLOW;
    const token = request.query.token;
    if (token === undefined)
      return { allow: false, status: 'unauthorized', reason: 'playing needs a signed URL (?token=, made by POST /api/auth/sign); auth.play: open lets anyone watch' };
    const verdict = this.verify('play', request, token);
    return verdict.ok ? ALLOW : { allow: false, status: 'forbidden', reason: `play refused: ${verdict.reason}` };
  };

  private verify(action: TokenAction, request: AdmissionRequest, token: string | undefined): { ok: boolean; reason?: string } {
    if (token === undefined) return { ok: false };
    return verifyToken(this.tokenKey, token, { action, path: request.path, nowSec: Math.floor(this.now() / 1000), remote: request.remote });
  }

  private ownedBy(path: string): string | undefined {
    const app = path.split('/')[0] ?? '';
    if (RESERVED_APPS.has(app)) return 'GB28181 or an RTP receiver (app rtp is reserved)';
    return this.ownerOf(path);
  }

  private sameSource(request: AdmissionRequest): boolean {
    const last = this.lastPublisher.get(request.path);
    return last !== undefined && last.kind === request.protocol && last.ip === ipOf(request.remote);
  }
}
