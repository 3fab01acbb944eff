/**
 * Playback control inside a Playback dialog: INFO with an RTSP-like body (MANSRTSP). Seek
 * positions are seconds from the start of the requested range; Scale is the speed.
 * Spec: GB/T 28181-2016 §9.8, Annex B (MANSRTSP)
 */
export const MANSRTSP_CONTENT_TYPE = 'Application/MANSRTSP';

export type PlaybackControl = { action: 'pause' } | { action: 'resume' } | { action: 'seek'; position: number } | { action: 'speed'; speed: number };

/** Speeds devices take (wvp offers 0.25 to 4; some NVRs go to 16). */
export const MIN_SPEED = 0.125;
export const MAX_SPEED = 16;

export function mansrtspBody(control: PlaybackControl, cseq: number): Buffer {
  const lines = (() => {
    switch (control.action) {
      case 'pause':
        return ['PAUSE RTSP/1.0', `CSeq: ${cseq}`, 'PauseTime: now'];
      case 'resume':
        return ['PLAY RTSP/1.0', `CSeq: ${cseq}`, 'Range: npt=now-'];
      case 'seek':
        return ['PLAY RTSP/1.0', `CSeq: ${cseq}`, `Range: npt=${Math.max(0, Math.floor(control.position))}-`];
      case 'speed':
        return ['PLAY RTSP/1.0', `CSeq: ${cseq}`, `Scale: ${Number.isInteger(control.speed) ? control.speed.toFixed(1) : String(control.speed)}`];
    }
  })();
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}
