import type { RecordingRow } from '../repos/recordings';

/** A gap between two segments larger than this starts a new timeline in the playlist. */
const CONTINUOUS_MS = 1000;

/**
 * The VOD playlist of one HLS recording folder: every closed segment, a DISCONTINUITY where the
 * recording stopped and started again, PROGRAM-DATE-TIME on each segment (the wall clock that
 * playback seeks by), and ENDLIST once nothing records there. Spec: RFC 8216 §4.3.3.5, §6.2.1.
 */
export function renderVodPlaylist(rows: readonly RecordingRow[], options: { folder: string; ended: boolean }): string {
  const target = Math.max(1, ...rows.map((r) => Math.ceil(r.durationMs / 1000)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-PLAYLIST-TYPE:${options.ended ? 'VOD' : 'EVENT'}`, `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0'];
  let previousEnd: number | undefined;
  for (const row of rows) {
    if (previousEnd !== undefined && Math.abs(row.startMs - previousEnd) > CONTINUOUS_MS) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(row.startMs).toISOString()}`);
    lines.push(`#EXTINF:${(row.durationMs / 1000).toFixed(3)},`);
    lines.push(row.file.startsWith(`${options.folder}/`) ? row.file.slice(options.folder.length + 1) : row.file);
    previousEnd = row.endMs;
  }
  if (options.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
