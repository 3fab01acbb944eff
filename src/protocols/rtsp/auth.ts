import { createHash, randomBytes } from 'node:crypto';
import { ParseError } from '../../core/errors';
import type { Credentials } from './url';

/**
 * RTSP authentication: challenges from WWW-Authenticate and the Authorization answer.
 * Spec: RFC 7235 §2.1 and §4.1 (challenge syntax), RFC 7617 (Basic), RFC 7616 (Digest with
 * MD5 and SHA-256; RFC 2069 compatibility when there is no qop), RFC 2326 §D.
 */

export const MAX_CHALLENGE_LENGTH = 4096;
const MAX_PARAMS = 32;

export interface Challenge {
  /** Lower-case scheme: `basic`, `digest`, or whatever else the server named. */
  readonly scheme: string;
  /** Lower-case parameter names; values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/** Parses one WWW-Authenticate value, which may hold several challenges. */
export function parseChallenges(value: string): Challenge[] {
  if (value.length > MAX_CHALLENGE_LENGTH) throw new ParseError(`WWW-Authenticate longer than ${MAX_CHALLENGE_LENGTH}`);
  const out: { scheme: string; params: Map<string, string> }[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < value.length && TOKEN_CHAR.test(value[i]!)) i++;
    return value.slice(start, i);
  };
  while (i < value.length) {
    skipSpace();
    if (value[i] === ',') {
      i++;
      continue;
    }
    if (i >= value.length) break;
    const name = token();
    if (name === '') throw new ParseError(`bad character ${JSON.stringify(value[i])} in WWW-Authenticate`);
    skipSpace();
    const current = out[out.length - 1];
    if (value[i] === '=' && current) {
      // An auth-param of the current challenge.
      i++;
      skipSpace();
      const param = value[i] === '"' ? quoted() : token68OrToken();
      if (current.params.size >= MAX_PARAMS) throw new ParseError('too many WWW-Authenticate parameters');
      current.params.set(name.toLowerCase(), param);
      continue;
    }
    out.push({ scheme: name.toLowerCase(), params: new Map() });
    // A token68 (Basic's realm-less form, or NTLM data) directly after the scheme is skipped.
    const save = i;
    const maybe = token68OrToken();
    skipSpace();
    if (maybe === '' || (i < value.length && value[i] !== ',')) i = save;
  }
  return out;

  function quoted(): string {
    i++;
    let text = '';
    while (i < value.length && value[i] !== '"') {
      if (value[i] === '\\' && i + 1 < value.length) i++;
      text += value[i];
      i++;
    }
    if (i >= value.length) throw new ParseError('unterminated quoted string in WWW-Authenticate');
    i++;
    return text;
  }

  function token68OrToken(): string {
    const start = i;
    while (i < value.length && /[A-Za-z0-9._~+/!#$%&'*^`|-]/.test(value[i]!)) i++;
    while (i < value.length && value[i] === '=') i++;
    return value.slice(start, i);
  }
}

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export type ChosenChallenge =
  | { readonly scheme: 'basic'; readonly realm?: string }
  | {
      readonly scheme: 'digest';
      readonly realm: string;
      readonly nonce: string;
      readonly opaque?: string;
      readonly algorithm: DigestAlgorithm;
      /** Whether the server named `algorithm=` (echoed back only then). */
      readonly algorithmNamed: boolean;
      readonly qop?: 'auth';
      readonly stale: boolean;
    };

function digestAlgorithm(name: string | undefined): DigestAlgorithm | undefined {
  switch ((name ?? 'MD5').toUpperCase()) {
    case 'MD5':
      return 'MD5';
    case 'MD5-SESS':
      return 'MD5-sess';
    case 'SHA-256':
      return 'SHA-256';
    case 'SHA-256-SESS':
      return 'SHA-256-sess';
    default:
      return undefined;
  }
}

/**
 * The strongest challenge we can answer: Digest SHA-256, then Digest MD5, then Basic.
 * Undefined when none is usable (an unknown scheme or algorithm, a Digest without nonce).
 */
export function chooseChallenge(challenges: readonly Challenge[]): ChosenChallenge | undefined {
  let best: ChosenChallenge | undefined;
  let bestRank = 0;
  for (const c of challenges) {
    if (c.scheme === 'basic' && bestRank < 1) {
      const realm = c.params.get('realm');
      best = realm === undefined ? { scheme: 'basic' } : { scheme: 'basic', realm };
      bestRank = 1;
    } else if (c.scheme === 'digest') {
      const algorithm = digestAlgorithm(c.params.get('algorithm'));
      const nonce = c.params.get('nonce');
      if (!algorithm || nonce === undefined) continue;
      const qops = (c.params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase());
      // qop=auth-int alone cannot be answered without hashing bodies we do not send; RFC 2069
      // style (no qop) is what most cameras use.
      if (c.params.has('qop') && !qops.includes('auth')) continue;
      const rank = algorithm.startsWith('SHA-256') ? 3 : 2;
      if (rank <= bestRank) continue;
      const opaque = c.params.get('opaque');
      best = {
        scheme: 'digest',
        realm: c.params.get('realm') ?? '',
        nonce,
        ...(opaque !== undefined ? { opaque } : {}),
        algorithm,
        algorithmNamed: c.params.has('algorithm'),
        ...(qops.includes('auth') ? { qop: 'auth' as const } : {}),
        stale: (c.params.get('stale') ?? '').toLowerCase() === 'true',
      };
      bestRank = rank;
    }
  }
  return best;
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(text, 'utf8')
    .digest('hex');
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export interface DigestState {
  /** The nonce count, incremented per request with the same nonce. */
  nc: number;
  cnonce?: string;
}

/**
 * The Authorization value for one request. `state` carries the nonce count between requests
 * answered under the same Digest challenge.
 */
export function buildAuthorization(
  challenge: ChosenChallenge,
  credentials: Credentials,
  method: string,
  uri: string,
  state: DigestState = { nc: 0 },
  cnonce: () => string = () => randomBytes(8).toString('hex'),
): string {
  if (challenge.scheme === 'basic') {
    return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
  }
  const alg = challenge.algorithm;
  const parts = [`username=${quote(credentials.username)}`, `realm=${quote(challenge.realm)}`, `nonce=${quote(challenge.nonce)}`, `uri=${quote(uri)}`];
  if (challenge.qop || alg.endsWith('-sess')) {
    state.cnonce ??= cnonce();
  }
  const answer: DigestAnswer = {
    algorithm: alg,
    username: credentials.username,
    realm: challenge.realm,
    nonce: challenge.nonce,
    method,
    uri,
    ...(state.cnonce !== undefined ? { cnonce: state.cnonce } : {}),
  };
  if (challenge.qop) {
    state.nc++;
    const nc = state.nc.toString(16).padStart(8, '0');
    parts.push(`response=${quote(digestResponse({ ...answer, qop: 'auth', nc }, credentials.password))}`);
    if (challenge.algorithmNamed) parts.push(`algorithm=${alg}`);
    parts.push('qop=auth', `nc=${nc}`, `cnonce=${quote(state.cnonce!)}`);
  } else {
    parts.push(`response=${quote(digestResponse(answer, credentials.password))}`);
    if (challenge.algorithmNamed) parts.push(`algorithm=${alg}`);
  }
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

/** What a Digest response is computed over (both sides: the client answers, the server checks). */
export interface DigestAnswer {
  readonly algorithm: DigestAlgorithm;
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly method: string;
  readonly uri: string;
  readonly qop?: 'auth';
  /** 8 hex digits, with qop. */
  readonly nc?: string;
  readonly cnonce?: string;
}

/** The `response=` value. Spec: RFC 7616 §3.4.1 (with qop), RFC 2069 §2.1.2 (without). */
export function digestResponse(answer: DigestAnswer, password: string): string {
  const alg = answer.algorithm;
  let ha1 = hash(alg, `${answer.username}:${answer.realm}:${password}`);
  if (alg.endsWith('-sess')) ha1 = hash(alg, `${ha1}:${answer.nonce}:${answer.cnonce ?? ''}`);
  const ha2 = hash(alg, `${answer.method}:${answer.uri}`);
  if (answer.qop) return hash(alg, `${ha1}:${answer.nonce}:${answer.nc ?? ''}:${answer.cnonce ?? ''}:auth:${ha2}`);
  return hash(alg, `${ha1}:${answer.nonce}:${ha2}`);
}

/** A client's Authorization header as the server reads it. */
export type ClientAuthorization =
  | { readonly scheme: 'basic'; readonly username: string; readonly password: string }
  | { readonly scheme: 'digest'; readonly username: string; readonly response: string; readonly answer: DigestAnswer };

/**
 * Reads an Authorization value (Basic or Digest; the Digest parameters share the challenge
 * syntax, so `parseChallenges` reads them). Undefined for another scheme or a Digest without
 * the parameters a response needs. Spec: RFC 7617 §2, RFC 7616 §3.4.
 */
export function parseAuthorization(value: string, method: string): ClientAuthorization | undefined {
  if (value.length > MAX_CHALLENGE_LENGTH) throw new ParseError(`Authorization longer than ${MAX_CHALLENGE_LENGTH}`);
  const basic = /^\s*basic\s+([A-Za-z0-9+/=]{1,1024})\s*$/i.exec(value);
  if (basic) {
    const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return undefined;
    return { scheme: 'basic', username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  const [digest] = parseChallenges(value);
  if (!digest || digest.scheme !== 'digest') return undefined;
  const p = digest.params;
  const algorithm = digestAlgorithm(p.get('algorithm'));
  const [username, realm, nonce, uri, response] = ['username', 'realm', 'nonce', 'uri', 'response'].map((name) => p.get(name));
  if (!algorithm || username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return undefined;
  const qop = p.get('qop')?.toLowerCase() === 'auth' ? ('auth' as const) : undefined;
  const nc = p.get('nc');
  const cnonce = p.get('cnonce');
  return {
    scheme: 'digest',
    username,
    response: response.toLowerCase(),
    answer: { algorithm, username, realm, nonce, method, uri, ...(qop ? { qop } : {}), ...(nc !== undefined ? { nc } : {}), ...(cnonce !== undefined ? { cnonce } : {}) },
  };
}
