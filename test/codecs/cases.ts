/**
 * Real bitstreams made by ffmpeg (x264, x265, the native AAC encoder) and one H.265 stream sent
 * by srs-bench (see test/fixtures/codecs/README.md), with what ffprobe says about them. Shared by
 * the decode, encode and property tests.
 */
export interface H264Case {
  readonly file: string;
  readonly profile: number;
  readonly level: number;
  readonly width: number;
  readonly height: number;
  readonly chromaFormat: number;
  readonly bitDepth: number;
  readonly frameMbsOnly: boolean;
  readonly fps: number;
  readonly frames: number;
  readonly idrFrames: number;
}

export const H264_CASES: readonly H264Case[] = [
  { file: 'h264-baseline-320x240.h264', profile: 66, level: 13, width: 320, height: 240, chromaFormat: 1, bitDepth: 8, frameMbsOnly: true, fps: 25, frames: 10, idrFrames: 2 },
  { file: 'h264-main-352x288-bframes.h264', profile: 77, level: 13, width: 352, height: 288, chromaFormat: 1, bitDepth: 8, frameMbsOnly: true, fps: 30, frames: 8, idrFrames: 1 },
  { file: 'h264-high-1918x1080.h264', profile: 100, level: 40, width: 1918, height: 1080, chromaFormat: 1, bitDepth: 8, frameMbsOnly: true, fps: 25, frames: 1, idrFrames: 1 },
  {
    file: 'h264-high-interlaced-720x576.h264',
    profile: 100,
    level: 30,
    width: 720,
    height: 576,
    chromaFormat: 1,
    bitDepth: 8,
    frameMbsOnly: false,
    fps: 25,
    frames: 2,
    idrFrames: 1,
  },
  { file: 'h264-high422-200x100.h264', profile: 122, level: 11, width: 200, height: 100, chromaFormat: 2, bitDepth: 8, frameMbsOnly: true, fps: 29.97, frames: 2, idrFrames: 1 },
  { file: 'h264-high444-cqm-176x144.h264', profile: 244, level: 10, width: 176, height: 144, chromaFormat: 3, bitDepth: 8, frameMbsOnly: true, fps: 15, frames: 2, idrFrames: 1 },
];

export interface H265Case {
  readonly file: string;
  readonly profile: number;
  readonly level: number;
  readonly width: number;
  readonly height: number;
  readonly chromaFormat: number;
  readonly bitDepth: number;
  readonly maxSubLayers: number;
  readonly fps: number;
}

export const H265_CASES: readonly H265Case[] = [
  { file: 'h265-main-320x240.h265', profile: 1, level: 60, width: 320, height: 240, chromaFormat: 1, bitDepth: 8, maxSubLayers: 1, fps: 25 },
  { file: 'h265-main-1918x1080.h265', profile: 1, level: 120, width: 1918, height: 1080, chromaFormat: 1, bitDepth: 8, maxSubLayers: 1, fps: 25 },
  { file: 'h265-main10-320x240.h265', profile: 2, level: 60, width: 320, height: 240, chromaFormat: 1, bitDepth: 10, maxSubLayers: 1, fps: 30 },
  { file: 'h265-main444-176x144.h265', profile: 4, level: 30, width: 176, height: 144, chromaFormat: 3, bitDepth: 8, maxSubLayers: 1, fps: 15 },
  { file: 'h265-temporal-layers-320x240.h265', profile: 1, level: 60, width: 320, height: 240, chromaFormat: 1, bitDepth: 8, maxSubLayers: 2, fps: 25 },
  { file: 'h265-scaling-list-208x120.h265', profile: 1, level: 60, width: 208, height: 120, chromaFormat: 1, bitDepth: 8, maxSubLayers: 1, fps: 24 },
  { file: 'srsbench-h265-1280x720-parameter-sets.h265', profile: 1, level: 93, width: 1280, height: 720, chromaFormat: 1, bitDepth: 8, maxSubLayers: 1, fps: 25 },
];

export interface AdtsCase {
  readonly file: string;
  readonly sampleRate: number;
  readonly sampleRateIndex: number;
  readonly channels: number;
  readonly frames: number;
}

export const ADTS_CASES: readonly AdtsCase[] = [
  { file: 'aac-lc-44100-stereo.adts', sampleRate: 44100, sampleRateIndex: 4, channels: 2, frames: 23 },
  { file: 'aac-lc-8000-mono.adts', sampleRate: 8000, sampleRateIndex: 11, channels: 1, frames: 5 },
  { file: 'aac-lc-48000-5.1.adts', sampleRate: 48000, sampleRateIndex: 3, channels: 6, frames: 16 },
];
