/**
 * GB28181 codes. A device, channel or platform id is 20 digits: a 10-digit centre code (the SIP
 * domain), 2-digit industry, 3-digit type, 1-digit network and a 4-digit serial; civil
 * (administrative region) codes are 2, 4, 6 or 8 digits.
 * Spec: GB/T 28181-2016 Annex D
 */
export const GB_ID = /^\d{20}$/;
export const GB_DOMAIN = /^\d{10}$/;
const CIVIL_CODE = /^(?:\d{2}){1,4}$/;

export function isGbId(id: string): boolean {
  return GB_ID.test(id);
}

/** Digits 11-13 of a 20-digit id: 111 DVR, 118 NVR, 131 camera, 132 IPC, 200 platform, 215 business group, 216 virtual organisation. */
export function typeCodeOf(id: string): number | undefined {
  return isGbId(id) ? Number(id.slice(10, 13)) : undefined;
}

export type CatalogNodeKind = 'civil' | 'group' | 'org' | 'device';

/** What a catalog item is: a civil code (<= 8 digits), a business group (215), a virtual organisation (216) or a device/channel. */
export function catalogNodeKind(id: string): CatalogNodeKind {
  if (CIVIL_CODE.test(id)) return 'civil';
  const type = typeCodeOf(id);
  if (type === 215) return 'group';
  if (type === 216) return 'org';
  return 'device';
}

/** Ids we accept from the wire as catalog nodes: civil codes or 20-digit codes (some NVRs use up to 32 chars). */
export function isCatalogNodeId(id: string): boolean {
  return CIVIL_CODE.test(id) || /^[0-9A-Za-z]{10,32}$/.test(id);
}
