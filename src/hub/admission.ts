import type { AdmissionCheck, AdmissionRequest, AdmissionResult, AdmissionStatus } from '../core/admission';
import { GatewayError, errorMessage, type ErrorCode } from '../core/errors';
import type { Logger } from '../core/log';

const ALLOW: AdmissionResult = { allow: true };

const CODE_OF: Record<AdmissionStatus, ErrorCode> = {
  unauthorized: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  unavailable: 'UNAVAILABLE',
};

/**
 * The admission chain (hub rule 11), reached as `registry.admission`: checks run in the order
 * they were added, the first refusal wins, and a check that throws or rejects refuses with
 * `unavailable` (a broken webhook never lets a caller in).
 */
export class Admission {
  private readonly checks: { name: string; check: AdmissionCheck }[] = [];

  constructor(private readonly log: Logger) {}

  /** Adds a check at the end of the chain; the returned function removes it. */
  add(name: string, check: AdmissionCheck): () => void {
    const item = { name, check };
    this.checks.push(item);
    return () => {
      const index = this.checks.indexOf(item);
      if (index >= 0) this.checks.splice(index, 1);
    };
  }

  get size(): number {
    return this.checks.length;
  }

  async check(request: AdmissionRequest): Promise<AdmissionResult> {
    let user = request.user;
    for (const { name, check } of [...this.checks]) {
      let result: AdmissionResult;
      try {
        result = await check(user === request.user ? request : { ...request, user });
      } catch (err) {
        this.log.warn({ check: name, action: request.action, path: request.path, protocol: request.protocol, err: errorMessage(err) }, 'admission check failed');
        return { allow: false, status: 'unavailable', reason: `admission check ${name} failed` };
      }
      if (!result.allow) {
        this.log.info(
          { check: name, action: request.action, path: request.path, protocol: request.protocol, remote: request.remote, status: result.status, reason: result.reason },
          'admission refused',
        );
        return result;
      }
      if (result.user !== undefined) user = result.user;
    }
    return user === undefined ? ALLOW : { allow: true, user };
  }

  /** `check`, throwing the refusal as a GatewayError (UNAUTHORIZED, FORBIDDEN, UNAVAILABLE). */
  async admit(request: AdmissionRequest): Promise<{ user?: string }> {
    const result = await this.check(request);
    if (!result.allow) throw admissionError(result.status, result.reason);
    return result.user === undefined ? {} : { user: result.user };
  }
}

export function admissionError(status: AdmissionStatus, reason: string): GatewayError {
  return new GatewayError(CODE_OF[status], reason);
}
