import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed URLs: `?token=` for play, `?sign=` for publish. A token is `{expiry}.{ip}.{mac}`:
 * expiry in epoch seconds (decimal), the client IP it is bound to as base64url (empty: any
 * address), and HMAC-SHA256 over action, path and those two parts exactly as written, so a
 * changed byte anywhere changes the MAC. The MAC is compared as text in constant time (a
 * base64url string has one spelling per MAC only when compared as text: the last character
 * carries two unused bits).
 */
export type TokenAction = 'play' | 'publish';

export interface TokenClaims {
  readonly action: TokenAction;
  /** `app/stream` */
  readonly path: string;
  /** Epoch seconds after which the token is refused. */
  readonly expiresAt: number;
  /** Only this client IP may use it. */
  readonly ip?: string;
}

export type TokenVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const MAX_TOKEN_LENGTH = 256;
const EXPIRY = /^[1-9]\d{0,11}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const MAC_LENGTH = 43;

/** A key for one purpose, derived from the admin secret (the secret itself is never a MAC key). */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`surveillance-gateway ${purpose}`).digest();
}

/** The client IP of an `ip:port` peer (moved beside remoteOf; kept here for the access code). */
import { ipOf } from '../../protocols/shared/sockets';

export { ipOf };

function mac(key: Buffer, action: TokenAction, path: string, expiry: string, ip64: string): string {
  return createHmac('sha256', key).update(`${action}\n${path}\n${expiry}\n${ip64}`).digest('base64url');
}

export function signToken(key: Buffer, claims: TokenClaims): string {
  const expiry = String(Math.floor(claims.expiresAt));
  const ip64 = claims.ip ? Buffer.from(ipOf(claims.ip)).toString('base64url') : '';
  return `${expiry}.${ip64}.${mac(key, claims.action, claims.path, expiry, ip64)}`;
}

/**
 * Checks a token from the wire against the action and path asked for, at `nowSec`, from
 * `remote`. Never throws: anything that is not a well-formed, unexpired token with the right
 * MAC (and IP, when bound) is refused with the reason.
 */
export function verifyToken(key: Buffer, token: unknown, expected: { action: TokenAction; path: string; nowSec: number; remote?: string }): TokenVerdict {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed token' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed token' };
  const [expiry, ip64, given] = parts as [string, string, string];
  if (!EXPIRY.test(expiry) || !BASE64URL.test(ip64) || ip64.length > 64 || given.length !== MAC_LENGTH || !BASE64URL.test(given)) {
    return { ok: false, reason: 'malformed token' };
  }
  const wanted = mac(key, expected.action, expected.path, expiry, ip64);
  if (!timingSafeEqual(Buffer.from(given, 'latin1'), Buffer.from(wanted, 'latin1'))) return { ok: false, reason: 'bad token signature' };
  if (Number(expiry) < expected.nowSec) return { ok: false, reason: 'token expired' };
  if (ip64 !== '' && Buffer.from(ip64, 'base64url').toString() !== ipOf(expected.remote)) return { ok: false, reason: 'token bound to another client address' };
  return { ok: true };
}
