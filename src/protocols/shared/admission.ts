import type { AdmissionRequest } from '../../core/admission';

/** A parsed URL query (fastify's): strings, repeated keys as arrays. */
export type ParsedQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The first value of each key, as AdmissionRequest.query carries it. */
export function admissionQuery(query: ParsedQuery | undefined, drop: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query ?? {})) {
    if (drop.includes(key)) continue;
    const first = typeof value === 'string' ? value : value?.[0];
    if (first !== undefined) out[key] = first;
  }
  return out;
}

/** The admission request of a viewer. */
export function playRequest(protocol: string, path: string, remote: string | undefined, query: ParsedQuery | undefined): AdmissionRequest {
  return { action: 'play', path, protocol, ...(remote ? { remote } : {}), query: admissionQuery(query) };
}
