import { GatewayError } from '../core/errors';

/**
 * Stream paths are `app/stream`, each part 1-64 characters of [A-Za-z0-9_.-] and not `.`/`..`.
 * The allow-list keeps paths safe to use as file names later (recordings) and in URLs.
 */
const PART = /^[A-Za-z0-9_.-]{1,64}$/;

export function isValidStreamPath(path: string): boolean {
  const parts = path.split('/');
  return parts.length === 2 && parts.every((part) => PART.test(part) && part !== '.' && part !== '..');
}

export function assertStreamPath(path: string): string {
  if (!isValidStreamPath(path)) {
    throw new GatewayError('BAD_REQUEST', `invalid stream path "${path.slice(0, 140)}": expected app/stream with [A-Za-z0-9_.-]`);
  }
  return path;
}

/** Matches a path against a pattern where `*` stands for any run of characters within one part. */
export function pathPatternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${escaped}$`);
}
