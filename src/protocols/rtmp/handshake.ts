/**
 * RTMP handshake, server side: the simple handshake of the spec and the Flash "complex"
 * (digest) handshake that Flash Player, ffmpeg/librtmp and OBS use, told apart by C1.
 *
 * Spec: RTMP 1.0 §5.2 (C0/C1/C2, S0/S1/S2). The digest scheme is not in the published spec;
 * it is the de-facto Flash Player 9+ scheme: C1 = time(4) version(4) and two 764-byte blocks
 * (key, digest), in either order ("schema 0": key first, "schema 1": digest first). A digest
 * block is offset(4) random digest(32) random, the digest position being 4 + (sum of the
 * offset bytes mod 728) into the block; the digest is HMAC-SHA256 over the other 1504 bytes.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ParseError, parseAssert } from '../../core/errors';

export const RTMP_VERSION = 3;
export const HANDSHAKE_SIZE = 1536;
const DIGEST_SIZE = 32;

const GENUINE_CONST = Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex');
/** The Flash Player key: its first 30 bytes sign C1, the whole key signs C2. */
export const FP_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001', 'latin1'), GENUINE_CONST]);
export const FP_KEY_SHORT = FP_KEY.subarray(0, 30);
/** The Flash Media Server key: its first 36 bytes sign S1, the whole key derives the S2 key. */
export const FMS_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001', 'latin1'), GENUINE_CONST]);
export const FMS_KEY_SHORT = FMS_KEY.subarray(0, 36);

/** The version we write in S1 (FMS 4.5.1.1 style: non-zero marks a digest-capable server). */
const SERVER_VERSION = 0x04050101;

/** 0: key block first, digest block second; 1: digest block first. */
export type DigestSchema = 0 | 1;

export function hmacSha256(key: Buffer, ...data: Buffer[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of data) hmac.update(part);
  return hmac.digest();
}

/** Where the 32-byte digest sits in a 1536-byte C1/S1 of the given schema. */
export function digestOffset(sig: Buffer, schema: DigestSchema): number {
  const block = schema === 0 ? 8 + 764 : 8;
  const sum = sig[block]! + sig[block + 1]! + sig[block + 2]! + sig[block + 3]!;
  return block + 4 + (sum % 728);
}

/** HMAC-SHA256 of a C1/S1 without its digest bytes. */
export function computeDigest(sig: Buffer, offset: number, key: Buffer): Buffer {
  return hmacSha256(key, sig.subarray(0, offset), sig.subarray(offset + DIGEST_SIZE, HANDSHAKE_SIZE));
}

/** The schema whose digest checks out with `key`, or undefined (a simple-handshake C1). */
export function findDigestSchema(sig: Buffer, key: Buffer): DigestSchema | undefined {
  for (const schema of [0, 1] as const) {
    const offset = digestOffset(sig, schema);
    if (computeDigest(sig, offset, key).equals(sig.subarray(offset, offset + DIGEST_SIZE))) return schema;
  }
  return undefined;
}

/** Writes the digest into a 1536-byte signature in place (the caller's random fill stays). */
export function signDigest(sig: Buffer, schema: DigestSchema, key: Buffer): void {
  const offset = digestOffset(sig, schema);
  computeDigest(sig, offset, key).copy(sig, offset);
}

/**
 * S2 (or C2) of the digest handshake: random(1504) + HMAC(HMAC(fullKey, peerDigest), random).
 */
export function makeDigestResponse(peerDigest: Buffer, fullKey: Buffer, random: Buffer): Buffer {
  const out = Buffer.alloc(HANDSHAKE_SIZE);
  random.copy(out, 0, 0, HANDSHAKE_SIZE - DIGEST_SIZE);
  const key = hmacSha256(fullKey, peerDigest);
  hmacSha256(key, out.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE)).copy(out, HANDSHAKE_SIZE - DIGEST_SIZE);
  return out;
}

/** True if `response` (S2/C2) was built from `digest` with `fullKey`. */
export function checkDigestResponse(response: Buffer, digest: Buffer, fullKey: Buffer): boolean {
  const key = hmacSha256(fullKey, digest);
  const expected = hmacSha256(key, response.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE));
  return expected.equals(response.subarray(HANDSHAKE_SIZE - DIGEST_SIZE, HANDSHAKE_SIZE));
}

export interface ServerHandshakeOptions {
  /** Random source (tests make it deterministic). */
  random?: (bytes: number) => Buffer;
  /** Epoch for the S1 time field, in ms. */
  now?: () => number;
}

export interface HandshakeProgress {
  /** Bytes to send now (S0+S1+S2 once C0+C1 are in). */
  readonly reply?: readonly Buffer[];
  /** True once C2 has been read: `rest` (if any) is the first chunk-stream data. */
  readonly done: boolean;
  readonly rest?: Buffer;
}

type Phase = 'c0c1' | 'c2' | 'done';

/** Either side's handshake, as RtmpConnection drives it. */
export interface HandshakeMachine {
  /** 'simple' or 'digest' once the peer's first block has been read. */
  readonly mode: 'simple' | 'digest' | undefined;
  /** Bytes to send as soon as the socket is up (the client's C0+C1). */
  start?(): readonly Buffer[];
  feed(chunk: Buffer): HandshakeProgress;
}

/**
 * Incremental server handshake: `feed` it TCP chunks of any size. Memory is bounded by one
 * C0+C1. Throws ParseError on a C0 other than version 3 (RTMPE, HTTP, garbage).
 */
export class ServerHandshake implements HandshakeMachine {
  private phase: Phase = 'c0c1';
  private readonly pending = Buffer.alloc(1 + HANDSHAKE_SIZE);
  private filled = 0;
  private readonly random: (bytes: number) => Buffer;
  private readonly now: () => number;
  private readonly startedAt: number;
  /** 'simple' or 'digest' once C1 has been read. */
  mode: 'simple' | 'digest' | undefined;

  constructor(options: ServerHandshakeOptions = {}) {
    this.random = options.random ?? randomBytes;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  feed(chunk: Buffer): HandshakeProgress {
    parseAssert(this.phase !== 'done', 'RTMP handshake: fed after completion');
    let reply: Buffer[] | undefined;
    let offset = 0;
    if (this.phase === 'c0c1') {
      offset = this.fill(chunk, 1 + HANDSHAKE_SIZE);
      if (this.filled >= 1 && this.pending[0] !== RTMP_VERSION) {
        throw new ParseError(`RTMP handshake: unsupported version ${this.pending[0]}`);
      }
      if (this.filled < 1 + HANDSHAKE_SIZE) return { done: false };
      reply = this.respond(this.pending.subarray(1));
      this.phase = 'c2';
      this.filled = 0;
    }
    offset += this.fill(chunk.subarray(offset), HANDSHAKE_SIZE);
    if (this.filled < HANDSHAKE_SIZE) return reply ? { reply, done: false } : { done: false };
    // C2 is not checked: many clients (and the spec's own echo rule) make it unreliable.
    this.phase = 'done';
    const rest = offset < chunk.length ? chunk.subarray(offset) : undefined;
    return { ...(reply ? { reply } : {}), done: true, ...(rest ? { rest } : {}) };
  }

  /** Copies up to `target - filled` bytes of `chunk` into `pending`; returns bytes consumed. */
  private fill(chunk: Buffer, target: number): number {
    const take = Math.min(chunk.length, target - this.filled);
    chunk.copy(this.pending, this.filled, 0, take);
    this.filled += take;
    return take;
  }

  private respond(c1: Buffer): Buffer[] {
    const s0 = Buffer.from([RTMP_VERSION]);
    const schema = findDigestSchema(c1, FP_KEY_SHORT);
    const s1 = Buffer.alloc(HANDSHAKE_SIZE);
    this.random(HANDSHAKE_SIZE - 8).copy(s1, 8);
    s1.writeUInt32BE((this.now() - this.startedAt) >>> 0, 0);
    if (schema === undefined) {
      this.mode = 'simple';
      s1.writeUInt32BE(0, 4);
      // Spec: RTMP 1.0 §5.2.4: S2 echoes C1 (Flash and librtmp compare the whole block).
      return [s0, s1, Buffer.from(c1)];
    }
    this.mode = 'digest';
    s1.writeUInt32BE(SERVER_VERSION, 4);
    signDigest(s1, schema, FMS_KEY_SHORT);
    const offset = digestOffset(c1, schema);
    const s2 = makeDigestResponse(c1.subarray(offset, offset + DIGEST_SIZE), FMS_KEY, this.random(HANDSHAKE_SIZE));
    return [s0, s1, s2];
  }
}
