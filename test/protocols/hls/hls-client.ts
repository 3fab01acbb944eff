import { parsePlaylist, type ParsedPlaylist } from '../../../src/formats/hls';

export interface FetchedPlaylist {
  url: string;
  status: number;
  headers: Headers;
  text: string;
  playlist?: ParsedPlaylist;
}

export async function fetchPlaylist(url: string): Promise<FetchedPlaylist> {
  const res = await fetch(url);
  const text = await res.text();
  return { url: res.url, status: res.status, headers: res.headers, text, playlist: res.status === 200 ? parsePlaylist(text) : undefined };
}

export interface FollowedSegment {
  sequence: number;
  uri: string;
  duration: number;
  discontinuity: boolean;
  programDateTime?: number;
  data: Buffer;
  status: number;
  headers: Headers;
  /** performance.now() when it was downloaded. */
  at: number;
}

export interface FollowResult {
  masterUrl: string;
  mediaUrl: string;
  /** ms from the master request to the first media playlist. */
  firstPlaylistMs: number;
  playlists: FetchedPlaylist[];
  segments: FollowedSegment[];
}

/**
 * A minimal live HLS client: the master playlist, then the media playlist every half target
 * duration, downloading every new segment in order, for `ms` milliseconds.
 */
export async function followHls(masterUrl: string, ms: number, options: { onSegment?: (s: FollowedSegment) => void } = {}): Promise<FollowResult> {
  const started = performance.now();
  const master = await fetchPlaylist(masterUrl);
  if (master.status !== 200) throw new Error(`master playlist: ${master.status} ${master.text}`);
  const mediaUrl = new URL(master.playlist!.variants[0]!.uri, masterUrl).toString();
  const playlists: FetchedPlaylist[] = [];
  const segments: FollowedSegment[] = [];
  let firstPlaylistMs = 0;
  let next = -1;
  while (performance.now() - started < ms) {
    const media = await fetchPlaylist(mediaUrl);
    if (!playlists.length) firstPlaylistMs = performance.now() - started;
    playlists.push(media);
    if (media.status !== 200) throw new Error(`media playlist: ${media.status} ${media.text}`);
    const list = media.playlist!;
    // Like a player: start three segments from the live edge, then take every new one in order.
    if (next < 0) next = Math.max(list.mediaSequence, list.mediaSequence + list.segments.length - 3);
    for (let i = 0; i < list.segments.length; i++) {
      const sequence = list.mediaSequence + i;
      if (sequence < next) continue;
      const s = list.segments[i]!;
      const res = await fetch(new URL(s.uri, mediaUrl));
      const segment: FollowedSegment = {
        sequence,
        uri: s.uri,
        duration: s.duration,
        discontinuity: s.discontinuity,
        programDateTime: s.programDateTime,
        data: Buffer.from(await res.arrayBuffer()),
        status: res.status,
        headers: res.headers,
        at: performance.now(),
      };
      segments.push(segment);
      options.onSegment?.(segment);
      next = sequence + 1;
    }
    await new Promise((resolve) => setTimeout(resolve, ((list.targetDuration ?? 2) * 1000) / 2));
  }
  return { masterUrl, mediaUrl, firstPlaylistMs, playlists, segments };
}
