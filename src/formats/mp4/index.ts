/** Fragmented MP4 (ISO BMFF) muxing: init segment, movie fragments, the per-stream muxer. */
export * from './boxes';
export * from './init';
export * from './fragment';
export * from './muxer';
export { sampleEntry } from './sample-entries';
