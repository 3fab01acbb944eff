import { createReadStream } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../core/errors';
import { remoteOf } from '../shared/sockets';
import { admit, failure, type PlaybackDeps } from './deps';
import { openRecordingFile } from './range-reader';

export type FileRequest = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>;

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * One `bytes=` range of a `size`-byte file (first-last, first-, -suffix); several ranges or
 * another unit are answered whole (a server may ignore Range). Spec: RFC 9110 §14.1.2, §14.4.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined; // invalid syntax: ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

const CONTENT_TYPE: Readonly<Record<string, string>> = { flv: 'video/x-flv', ts: 'video/mp2t', hls: 'video/mp2t' };

/** `GET /api/recordings/{id}/file`: the segment file as it is, with Range, ETag and Last-Modified. */
export async function serveRecordingFile(request: FileRequest, reply: FastifyReply, deps: PlaybackDeps): Promise<void> {
  try {
    const id = Number(request.params.id);
    const row = Number.isSafeInteger(id) && id > 0 ? deps.index.get(id) : undefined;
    if (!row || row.status === 'missing') throw new GatewayError('NOT_FOUND', `no recording ${request.params.id.slice(0, 40)}`);
    await admit(deps, row.path, 'record-file', remoteOf(request.raw.socket), request.query, []);
    const handle = await openRecordingFile(deps.dir, row.file).catch(() => {
      throw new GatewayError('NOT_FOUND', `the file of recording ${id} is gone`);
    });
    const info = await handle.stat();
    const etag = `"${row.id}-${info.size}-${Math.floor(info.mtimeMs)}"`;
    const name = row.file.split('/').slice(-3).join('_');
    void reply
      .header('Accept-Ranges', 'bytes')
      .header('ETag', etag)
      .header('Last-Modified', info.mtime.toUTCString())
      .header('Content-Type', CONTENT_TYPE[row.format] ?? 'application/octet-stream')
      .header('Content-Disposition', `inline; filename="${row.path.replace('/', '_')}_${name}"`);
    if (request.headers['if-none-match'] === etag) {
      await handle.close();
      return reply.code(304).send();
    }
    const ifRange = request.headers['if-range'];
    const range = ifRange === undefined || ifRange === etag ? parseByteRange(request.headers.range, info.size) : undefined;
    if (range === 'unsatisfiable') {
      await handle.close();
      return reply
        .code(416)
        .header('Content-Range', `bytes */${info.size}`)
        .header('Content-Type', 'application/json; charset=utf-8')
        .send({ code: 'RANGE_NOT_SATISFIABLE', message: `the file has ${info.size} bytes` });
    }
    const { start, end } = range ?? { start: 0, end: info.size - 1 };
    const stream = createReadStream('', { fd: handle, start, end: Math.max(start, end), autoClose: true, highWaterMark: 256 * 1024 });
    if (range) void reply.code(206).header('Content-Range', `bytes ${start}-${end}/${info.size}`);
    void reply.header('Content-Length', String(info.size === 0 ? 0 : end - start + 1));
    if (info.size === 0) {
      stream.destroy();
      return reply.send('');
    }
    return reply.send(stream);
  } catch (err) {
    const { status, body } = failure(err);
    return reply.code(status).send(body);
  }
}
