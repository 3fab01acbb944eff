import { parseH264Sps } from '../../codecs/h264/sps';
import { parseH265Sps } from '../../codecs/h265/sps';
import { ParseError } from '../../core/errors';
import type { Track, VideoTrack } from '../../core/track';
import { isAudioTrack, isVideoTrack } from '../../core/track';
import { Amf0EcmaArray, encodeAmf0, type Amf0Value } from '../amf0/amf0';
import type { HevcMode } from './bodies';
import { FOURCC_HVC1, SOUND_FORMAT, VIDEO_CODEC_ID } from './constants';

/**
 * The body of the onMetaData script tag: AMF0 string "onMetaData" + an ECMA array describing
 * the first video and audio track (size, codec ids, frame rate when the SPS has timing info,
 * audio rate and channels, hasVideo/hasAudio for flv.js/mpegts.js). `extra` entries are added
 * last and win. videocodecid is 7 for H.264; for H.265 12 (legacy) or the FourCC 'hvc1' as a
 * number (enhanced). Spec: FLV v10.1 §E.5 onMetaData; Enhanced RTMP v1 (videocodecid FourCC).
 */
export function onMetaDataBody(tracks: readonly Track[], extra: Record<string, number | string | boolean> = {}, hevcMode: HevcMode = 'enhanced'): Buffer {
  const entries: Record<string, Amf0Value> = {};
  const video = tracks.find(isVideoTrack);
  const audio = tracks.find(isAudioTrack);
  entries.hasVideo = video !== undefined;
  entries.hasAudio = audio !== undefined;
  if (video) {
    entries.width = video.width;
    entries.height = video.height;
    entries.videocodecid = video.codec === 'h264' ? VIDEO_CODEC_ID.AVC : hevcMode === 'enhanced' ? FOURCC_HVC1 : VIDEO_CODEC_ID.HEVC_LEGACY;
    const fps = frameRate(video);
    if (fps !== undefined) entries.framerate = fps;
  }
  if (audio) {
    entries.audiocodecid = audio.codec === 'aac' ? SOUND_FORMAT.AAC : audio.codec === 'g711a' ? SOUND_FORMAT.G711_ALAW : SOUND_FORMAT.G711_MULAW;
    entries.audiosamplerate = audio.sampleRate;
    entries.audiosamplesize = 16;
    entries.audiochannels = audio.channels;
    entries.stereo = audio.channels > 1;
  }
  Object.assign(entries, extra);
  return encodeAmf0('onMetaData', new Amf0EcmaArray(entries));
}

function frameRate(track: VideoTrack): number | undefined {
  if (!track.sps) return undefined;
  try {
    return track.codec === 'h264' ? parseH264Sps(track.sps).fps : parseH265Sps(track.sps).fps;
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}
