import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { GatewayError } from '../../src/core/errors';
import { pad2, zonedParts } from '../../src/core/zoned-time';
import type { RecordingFormat } from '../repos/recordings';

/**
 * Where recordings live: `{app}/{stream}/{YYYY-MM-DD}/{HH-mm-ss}.{flv|ts}` under record.dir in
 * record.timezone; HLS in `{...}/{YYYY-MM-DD}/hls/` (TS segments and one VOD index.m3u8). Every
 * name is built here from a validated `app/stream` and digits, and every path read from the
 * index or the API is resolved with `inside()`, which refuses anything outside record.dir.
 */
export class RecordingLayout {
  readonly root: string;

  constructor(
    dir: string,
    readonly timeZone: string,
  ) {
    this.root = resolve(dir);
  }

  /** The absolute path of a file relative to the root; throws FORBIDDEN-like BAD_REQUEST outside it. */
  inside(file: string): string {
    if (file.includes('\0') || isAbsolute(file)) throw new GatewayError('BAD_REQUEST', 'a recording file name must be relative to record.dir');
    const absolute = resolve(this.root, file);
    const rel = relative(this.root, absolute);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new GatewayError('BAD_REQUEST', `recording file ${file.slice(0, 200)} is outside record.dir`);
    return absolute;
  }

  /** The folder (relative, forward slashes) a segment of `path` starting at `startMs` goes to. */
  folder(path: string, format: RecordingFormat, startMs: number): string {
    const parts = path.split('/');
    const [app, stream] = parts;
    if (parts.length !== 2 || !app || !stream || app === '.' || app === '..' || stream === '.' || stream === '..' || !/^[A-Za-z0-9_.-]+$/.test(app + stream)) {
      throw new GatewayError('BAD_REQUEST', `invalid stream path "${path.slice(0, 140)}"`);
    }
    const p = zonedParts(startMs, this.timeZone);
    const day = `${p.year}-${pad2(p.month)}-${pad2(p.day)}`;
    return format === 'hls' ? `${app}/${stream}/${day}/hls` : `${app}/${stream}/${day}`;
  }

  /**
   * A new file name for a segment: `{folder}/{HH-mm-ss}.{ext}`, with `-1`, `-2` ... when the
   * second is taken (a restart, two formats of one second share nothing but the stem).
   */
  newFile(path: string, format: RecordingFormat, startMs: number, taken: (file: string) => boolean): string {
    const folder = this.folder(path, format, startMs);
    const p = zonedParts(startMs, this.timeZone);
    const stem = `${pad2(p.hour)}-${pad2(p.minute)}-${pad2(p.second)}`;
    const ext = format === 'flv' ? 'flv' : 'ts';
    for (let n = 0; ; n++) {
      const file = `${folder}/${stem}${n === 0 ? '' : `-${n}`}.${ext}`;
      if (!taken(file) && !existsSync(this.inside(file))) return file;
    }
  }

  /** Relative path with forward slashes of an absolute path under the root. */
  relative(absolute: string): string {
    return relative(this.root, absolute).split(sep).join('/');
  }

  playlistOf(folder: string): string {
    return this.inside(join(folder, 'index.m3u8'));
  }
}
