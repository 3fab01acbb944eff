import { buildAvcDecoderConfigurationRecord } from '../../codecs/h264/avc-config';
import { buildHevcDecoderConfigurationRecord } from '../../codecs/h265/hevc-config';
import { GatewayError } from '../../core/errors';
import type { AudioTrack, Track, VideoTrack } from '../../core/track';
import { box, fullBox, u16, u32, u8, zeros } from './boxes';

/**
 * Sample entries (stsd children) for the codecs the hub carries: avc1+avcC, hvc1+hvcC,
 * mp4a+esds, and G.711 as 'alaw'/'ulaw' (read by ffmpeg, VLC and QuickTime; browsers' MSE does
 * not play G.711 at all, so a browser ignores that track).
 * Spec: ISO/IEC 14496-12 §12.1.3 (VisualSampleEntry), §12.2.3 (AudioSampleEntry);
 * ISO/IEC 14496-15 §5.4 (avcC), §8.4 (hvcC); ISO/IEC 14496-14 §5.6 (esds).
 */
export function sampleEntry(track: Track): Buffer {
  if (track.codec === 'h264' || track.codec === 'h265') return visualEntry(track);
  return audioEntry(track);
}

function visualEntry(track: VideoTrack): Buffer {
  const config =
    track.codec === 'h264'
      ? box('avcC', buildAvcDecoderConfigurationRecord(need(track.sps, track), need(track.pps, track)))
      : box('hvcC', buildHevcDecoderConfigurationRecord(need(track.vps, track), need(track.sps, track), need(track.pps, track)));
  const compressor = zeros(32);
  return box(
    track.codec === 'h264' ? 'avc1' : 'hvc1',
    zeros(6),
    u16(1), // data_reference_index
    zeros(16), // pre_defined, reserved, pre_defined[3]
    u16(track.width, track.height),
    u32(0x00480000, 0x00480000, 0), // 72 dpi, reserved
    u16(1), // frame_count
    compressor,
    u16(0x0018, 0xffff), // depth, pre_defined -1
    config,
  );
}

function audioEntry(track: AudioTrack): Buffer {
  const type = track.codec === 'aac' ? 'mp4a' : track.codec === 'g711a' ? 'alaw' : 'ulaw';
  const rate = Math.min(track.sampleRate, 0xffff);
  const fields = [zeros(6), u16(1), zeros(8), u16(track.channels, 16), zeros(4), u32(rate * 0x10000)];
  if (track.codec !== 'aac') return box(type, ...fields);
  return box(type, ...fields, esds(need(track.asc, track)));
}

/** ES_Descriptor > DecoderConfigDescriptor (AAC, audio stream) > DecoderSpecificInfo (the ASC). */
function esds(asc: Buffer): Buffer {
  const specific = descriptor(0x05, asc);
  const decoderConfig = descriptor(0x04, Buffer.concat([u8(0x40, 0x15), zeros(3), u32(0, 0), specific]));
  const sl = descriptor(0x06, u8(0x02));
  return fullBox('esds', 0, 0, descriptor(0x03, Buffer.concat([u16(0), u8(0), decoderConfig, sl])));
}

/** A descriptor with the 4-byte expandable size (always valid, and what ffmpeg writes). */
function descriptor(tag: number, body: Buffer): Buffer {
  const n = body.length;
  return Buffer.concat([u8(tag, 0x80 | ((n >>> 21) & 0x7f), 0x80 | ((n >>> 14) & 0x7f), 0x80 | ((n >>> 7) & 0x7f), n & 0x7f), body]);
}

function need(value: Buffer | undefined, track: Track): Buffer {
  if (!value || !track.ready) throw new GatewayError('INTERNAL', `MP4 sample entry needs a ready ${track.codec} track`);
  return value;
}
