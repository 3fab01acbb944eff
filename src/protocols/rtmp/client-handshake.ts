/**
 * RTMP handshake, client side. C1 is signed as Flash Player 9+ does (digest in the first
 * block, the scheme ffmpeg and OBS use), which servers that insist on the "complex" handshake
 * require and the others ignore (the spec's simple handshake only looks at C1's length). C2
 * answers S1 in kind: the digest response when S1 carries a server digest, else an echo.
 *
 * Spec: RTMP 1.0 §5.2 (C0/C1/C2); the digest scheme is described in handshake.ts.
 */
import { randomBytes } from 'node:crypto';
import { ParseError } from '../../core/errors';
import {
  FMS_KEY_SHORT,
  FP_KEY,
  FP_KEY_SHORT,
  HANDSHAKE_SIZE,
  RTMP_VERSION,
  digestOffset,
  findDigestSchema,
  makeDigestResponse,
  signDigest,
  type HandshakeMachine,
  type HandshakeProgress,
} from './handshake';

/** The version we write in C1 (Flash Player 9.0.124.2, as ffmpeg does). */
const CLIENT_VERSION = 0x09007c02;
const DIGEST_SIZE = 32;

export class ClientHandshake implements HandshakeMachine {
  /** S0 + S1 + S2. */
  private readonly pending = Buffer.alloc(1 + 2 * HANDSHAKE_SIZE);
  private filled = 0;
  private repliedC2 = false;
  mode: 'simple' | 'digest' | undefined;

  constructor(private readonly random: (bytes: number) => Buffer = randomBytes) {}

  start(): readonly Buffer[] {
    const c1 = Buffer.alloc(HANDSHAKE_SIZE);
    this.random(HANDSHAKE_SIZE - 8).copy(c1, 8);
    c1.writeUInt32BE(0, 0);
    c1.writeUInt32BE(CLIENT_VERSION, 4);
    signDigest(c1, 1, FP_KEY_SHORT);
    return [Buffer.from([RTMP_VERSION]), c1];
  }

  feed(chunk: Buffer): HandshakeProgress {
    const take = Math.min(chunk.length, this.pending.length - this.filled);
    chunk.copy(this.pending, this.filled, 0, take);
    this.filled += take;
    if (this.filled >= 1 && this.pending[0] !== RTMP_VERSION) {
      throw new ParseError(`RTMP handshake: the server answered version ${this.pending[0]}, not ${RTMP_VERSION}`);
    }
    let reply: Buffer[] | undefined;
    if (!this.repliedC2 && this.filled >= 1 + HANDSHAKE_SIZE) {
      this.repliedC2 = true;
      reply = [this.c2(this.pending.subarray(1, 1 + HANDSHAKE_SIZE))];
    }
    const done = this.filled === this.pending.length;
    const rest = done && take < chunk.length ? chunk.subarray(take) : undefined;
    return { ...(reply ? { reply } : {}), done, ...(rest ? { rest } : {}) };
  }

  private c2(s1: Buffer): Buffer {
    const schema = s1.readUInt32BE(4) === 0 ? undefined : findDigestSchema(s1, FMS_KEY_SHORT);
    if (schema === undefined) {
      this.mode = 'simple';
      // Spec: RTMP 1.0 §5.2.4: C2 echoes S1.
      return Buffer.from(s1);
    }
    this.mode = 'digest';
    const offset = digestOffset(s1, schema);
    return makeDigestResponse(s1.subarray(offset, offset + DIGEST_SIZE), FP_KEY, this.random(HANDSHAKE_SIZE));
  }
}
