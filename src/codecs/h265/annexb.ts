/** Annex B and HVCC framing; shared with H.264 (see ../annexb). */
export { MAX_NAL_UNITS_PER_ACCESS_UNIT, joinAnnexB, lengthPrefix, lengthPrefixAll, splitAnnexB, splitLengthPrefixed } from '../annexb';
