import { randomBytes } from 'node:crypto';
import { calculateDigest, calculateUserRealmPasswordHash } from 'sip/digest';
import { unquote, type AuthParams } from './message';

export interface NonceStoreOptions {
  /** A nonce is accepted this long after it was issued, ms. */
  ttlMs: number;
  /** Most nonces remembered at once; the oldest are forgotten first. */
  maxNonces: number;
}

interface NonceEntry {
  readonly owner: string;
  readonly issuedAt: number;
  /** Highest nonce-count seen (qop=auth); -1 before first use. */
  lastNc: number;
}

export type NonceCheck = 'ok' | 'unknown' | 'foreign' | 'expired' | 'replayed';

/**
 * Nonces issued by us and remembered until they expire (RFC 2617 §3.2.1): a nonce we never
 * issued, issued to another device, expired, or whose nonce-count does not grow is refused.
 */
export class NonceStore {
  private readonly nonces = new Map<string, NonceEntry>();

  constructor(private readonly options: NonceStoreOptions) {}

  issue(owner: string, now = Date.now()): string {
    const nonce = randomBytes(16).toString('hex');
    this.nonces.set(nonce, { owner, issuedAt: now, lastNc: -1 });
    if (this.nonces.size > this.options.maxNonces) {
      const oldest = this.nonces.keys().next().value;
      if (oldest !== undefined) this.nonces.delete(oldest);
    }
    return nonce;
  }

  /** Checks and records a use of `nonce` by `owner` with nonce-count `nc` (undefined without qop). */
  use(nonce: string, owner: string, nc: number | undefined, now = Date.now()): NonceCheck {
    const entry = this.nonces.get(nonce);
    if (!entry) return 'unknown';
    if (entry.owner !== owner) return 'foreign';
    if (now - entry.issuedAt > this.options.ttlMs) {
      this.nonces.delete(nonce);
      return 'expired';
    }
    // Without qop there is no counter: the nonce is good for one use.
    const count = nc ?? Number.MAX_SAFE_INTEGER;
    if (count <= entry.lastNc) return 'replayed';
    entry.lastNc = count;
    if (nc === undefined) this.nonces.delete(nonce);
    return 'ok';
  }

  /** Forgets expired nonces (called from a periodic sweep). */
  sweep(now = Date.now()): void {
    for (const [nonce, entry] of this.nonces) {
      if (now - entry.issuedAt > this.options.ttlMs) this.nonces.delete(nonce);
      else break; // insertion order = issue order
    }
  }

  get size(): number {
    return this.nonces.size;
  }
}

/** `WWW-Authenticate: Digest realm="...", qop="auth", nonce="...", algorithm=MD5` */
export function digestChallenge(realm: string, nonce: string, stale = false): AuthParams {
  return { scheme: 'Digest', realm: `"${realm}"`, qop: '"auth"', nonce: `"${nonce}"`, algorithm: 'MD5', ...(stale ? { stale: 'TRUE' } : {}) };
}

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  algorithm?: string;
}

/** The Digest Authorization header of a request, unquoted; undefined if there is none or it is incomplete. */
export function readDigest(headers: readonly AuthParams[] | undefined): DigestCredentials | undefined {
  const auth = headers?.find((h) => h.scheme.toLowerCase() === 'digest');
  if (!auth) return undefined;
  const value = (name: string): string | undefined => unquote(auth[name] ?? auth[name.toUpperCase()]);
  const username = value('username');
  const realm = value('realm');
  const nonce = value('nonce');
  const uri = value('uri');
  const response = value('response');
  if (!username || realm === undefined || !nonce || !uri || !response) return undefined;
  return {
    username,
    realm,
    nonce,
    uri,
    response: response.toLowerCase(),
    qop: value('qop')?.toLowerCase(),
    nc: value('nc'),
    cnonce: value('cnonce'),
    algorithm: value('algorithm'),
  };
}

/** The nonce-count as a number; undefined when absent, NaN when malformed. */
export function nonceCount(credentials: DigestCredentials): number | undefined {
  if (credentials.qop === undefined) return undefined;
  return credentials.nc && /^[0-9a-fA-F]{1,8}$/.test(credentials.nc) ? parseInt(credentials.nc, 16) : NaN;
}

/**
 * Whether `credentials` prove knowledge of `password` for `method` (MD5, qop=auth or the
 * RFC 2069 form without qop, which some 2011-era devices still send).
 * Spec: RFC 2617 §3.2.2, GB/T 28181-2016 §9.1.2
 */
export function verifyDigest(credentials: DigestCredentials, method: string, password: string): boolean {
  if (credentials.algorithm && credentials.algorithm.toUpperCase() !== 'MD5') return false;
  if (credentials.qop !== undefined && (credentials.qop !== 'auth' || !credentials.cnonce || !credentials.nc)) return false;
  const ha1 = calculateUserRealmPasswordHash(credentials.username, credentials.realm, password);
  const expected = calculateDigest({ ha1, method, nonce: credentials.nonce, nc: credentials.nc, cnonce: credentials.cnonce, qop: credentials.qop, uri: credentials.uri });
  return expected === credentials.response;
}
