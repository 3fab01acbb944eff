/** FLV muxing and demuxing: tag framing, tag bodies (shared with RTMP), metadata, demuxer. */
export * from './tag';
export * from './constants';
export * from './bodies';
export * from './metadata';
export * from './demuxer';
export * from './body-decoder';
