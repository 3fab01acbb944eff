/** Annex B and AVCC framing; shared with H.265 (see ../annexb). */
export { MAX_NAL_UNITS_PER_ACCESS_UNIT, joinAnnexB, lengthPrefix, lengthPrefixAll, splitAnnexB, splitLengthPrefixed } from '../annexb';
