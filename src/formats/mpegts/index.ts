export * from './constants';
export { crc32Mpeg2 } from './crc32';
export { TsDemuxer, MAX_PES_BYTES, MAX_PMT_STREAMS, type TsDemuxEvent, type TsPmtStream } from './demuxer';
export { TsMuxer, type TsMuxedFrame, type TsMuxerOptions, type TsProgramChange } from './muxer';
export { pesHeader, readPesTimestamp, wrap33, writePesTimestamp } from './pes';
export { adtsConfigOf, layoutProgram, type SkippedTrack, type TsProgramLayout, type TsStream } from './program';
export { patSection, pmtSection, type ProgramTables } from './psi';
export { TsFeed, type TsChunk, type TsConsumer, type TsFeedOptions } from './ts-feed';
export { TsFeeds, type TsAttachment, type TsFeedHub } from './ts-feeds';
