import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../../core/errors';
import { digestResponse, parseAuthorization, type ClientAuthorization } from './auth';

/**
 * Server-side RTSP authentication: Basic and Digest (MD5; SHA-256 answers are checked too)
 * over the gateway's own credentials, which the app hands in as `RtspCredentials`. A proven
 * password becomes the admission query the other protocols carry in their URL (`key=` for
 * publish, `token=` for play), so access rules and hooks judge RTSP like RTMP and HTTP.
 * Spec: RFC 7616 §3.3 (challenge), §3.4 (response), RFC 7617 (Basic), RFC 2326 §D.
 */

export type RtspAction = 'play' | 'publish';

export interface RtspCredential {
  /** The password `username` must prove. */
  readonly password: string;
  /** What a proven password stands for in the admission request's query. */
  readonly query: Readonly<Record<string, string>>;
}

/** The credential `username` proves for `action`; undefined when RTSP credentials play no part (play under `auth.play: open`). */
export type RtspCredentials = (action: RtspAction, username: string) => RtspCredential | undefined;

export const RTSP_REALM = 'surveillance-media-gateway';
/** A connection that fails this many times is closed (a password guesser gets few tries). */
export const MAX_AUTH_FAILURES = 5;

export interface ProvenCredential {
  readonly query: Readonly<Record<string, string>>;
  readonly user: string;
}

/** One connection's authentication state: its nonce and failed attempts. */
export class RtspServerAuth {
  /** One nonce per connection: ffmpeg, GStreamer and VLC answer every request of a session with it. */
  private readonly nonce = randomBytes(16).toString('hex');
  failures = 0;

  constructor(private readonly credentials: RtspCredentials | undefined) {}

  /** The WWW-Authenticate headers of a 401: Digest first (clients prefer it), Basic for the others. */
  challenge(): [string, string][] {
    return [
      ['WWW-Authenticate', `Digest realm="${RTSP_REALM}", nonce="${this.nonce}", algorithm=MD5`],
      ['WWW-Authenticate', `Basic realm="${RTSP_REALM}"`],
    ];
  }

  /**
   * What an Authorization header proves for `action`: undefined without one (or when RTSP
   * credentials play no part); throws UNAUTHORIZED for a wrong password or an unusable header.
   */
  verify(action: RtspAction, method: string, value: string | undefined): ProvenCredential | undefined {
    if (value === undefined || !this.credentials) return undefined;
    const auth = parseAuthorization(value, method);
    if (!auth) return this.fail('an Authorization header that is neither Basic nor a complete Digest answer');
    const credential = this.credentials(action, auth.username);
    if (!credential) return undefined;
    if (!this.proves(auth, credential.password)) return this.fail(`wrong RTSP credentials for ${action}`);
    return { query: credential.query, user: auth.username };
  }

  private proves(auth: ClientAuthorization, password: string): boolean {
    if (auth.scheme === 'basic') return sameText(auth.password, password);
    if (auth.answer.nonce !== this.nonce || auth.answer.realm !== RTSP_REALM) return false;
    return sameText(auth.response, digestResponse(auth.answer, password));
  }

  private fail(reason: string): never {
    this.failures++;
    throw new GatewayError('UNAUTHORIZED', reason);
  }
}

/** Constant-time comparison (of digests, so unequal lengths cost the same). */
function sameText(given: string, wanted: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(wanted, 'utf8').digest();
  return timingSafeEqual(a, b);
}
