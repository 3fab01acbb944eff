export { codecString } from './codecs';
export {
  HLS_VERSION,
  MAX_PLAYLIST_BYTES,
  MAX_PLAYLIST_ENTRIES,
  MAX_PLAYLIST_LINE,
  attributeList,
  parsePlaylist,
  renderMasterPlaylist,
  renderMediaPlaylist,
  type MediaPlaylistOptions,
  type ParsedPlaylist,
  type ParsedSegment,
  type Variant,
} from './playlist';
export { HlsSegmenter, type HlsSegment, type SegmentInput, type SegmenterOptions } from './segmenter';
