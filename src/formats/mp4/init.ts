import { isVideoTrack, type Track } from '../../core/track';
import { UNITY_MATRIX, box, fullBox, u16, u32, zeros } from './boxes';
import { sampleEntry } from './sample-entries';

/** Video tracks run on the hub's 90 kHz clock; audio on its sample rate. */
export function mp4Timescale(track: Track): number {
  return isVideoTrack(track) ? 90_000 : track.sampleRate;
}

/** MP4 track_ID of a hub track (1-based: 0 is not a valid track_ID). */
export function mp4TrackId(track: Track): number {
  return track.id + 1;
}

/** 'und' packed as three 5-bit letters. Spec: ISO/IEC 14496-12 §8.4.2.3. */
const LANGUAGE_UND = 0x55c4;
const MOVIE_TIMESCALE = 1000;

/**
 * The initialization segment of a fragmented MP4: ftyp and a moov whose tracks have empty
 * sample tables and an mvex announcing that the samples follow in movie fragments.
 * Spec: ISO/IEC 14496-12 §8.8 (movie fragments), §8.2-§8.7 (moov boxes).
 */
export function initSegment(tracks: readonly Track[]): Buffer {
  const ftyp = box('ftyp', Buffer.from('iso5', 'latin1'), u32(512), Buffer.from('iso5iso6mp41', 'latin1'));
  const nextTrackId = Math.max(0, ...tracks.map(mp4TrackId)) + 1;
  const mvhd = fullBox('mvhd', 0, 0, u32(0, 0, MOVIE_TIMESCALE, 0, 0x00010000), u16(0x0100), zeros(10), UNITY_MATRIX, zeros(24), u32(nextTrackId));
  const mvex = box('mvex', ...tracks.map((t) => fullBox('trex', 0, 0, u32(mp4TrackId(t), 1, 0, 0, 0))));
  return Buffer.concat([ftyp, box('moov', mvhd, ...tracks.map(trak), mvex)]);
}

function trak(track: Track): Buffer {
  const video = isVideoTrack(track);
  const width = video ? track.width : 0;
  const height = video ? track.height : 0;
  const tkhd = fullBox(
    'tkhd',
    0,
    0x000003, // enabled, in movie
    u32(0, 0, mp4TrackId(track), 0, 0),
    zeros(8),
    u16(0, 0, video ? 0 : 0x0100, 0),
    UNITY_MATRIX,
    u32(width * 0x10000, height * 0x10000),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, mp4Timescale(track), 0), u16(LANGUAGE_UND, 0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from(video ? 'vide' : 'soun', 'latin1'), zeros(12), Buffer.from(video ? 'VideoHandler\0' : 'SoundHandler\0', 'latin1'));
  const header = video ? fullBox('vmhd', 0, 1, zeros(8)) : fullBox('smhd', 0, 0, zeros(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), sampleEntry(track)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', header, dinf, stbl)));
}
