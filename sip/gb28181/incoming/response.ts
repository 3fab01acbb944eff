import type { ManscdpHandler } from './context';

/**
 * Response/*: the answer to one of our queries (Catalog, DeviceInfo, DeviceStatus,
 * ConfigDownload ...), matched to it by device and SN in queries.ts. Spec: GB/T 28181-2016 §9.5.
 */
export const queryResponse: ManscdpHandler = ({ deviceId, message }, ctx) => {
  if (!ctx.queries.handleResponse(deviceId, message)) ctx.log.debug({ device: deviceId, cmdType: message.cmdType, sn: message.sn }, 'unsolicited MANSCDP response');
};
