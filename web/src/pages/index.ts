import type { AppContext } from '../app';
import { wallPage } from './wall';
import { devicesPage } from './devices';
import { playbackPage } from './playback';
import { manageDevicesPage } from './manage-devices';
import { manageRelaysPage } from './manage-relays';
import { recordPlansPage } from './record-plans';
import { streamsPage } from './streams';
import { healthPage } from './health';

/** One console page: `mount` draws it into `root` and returns its cleanup. Paths are one segment (`/wall`): the gateway serves the console at each. */
export interface Page {
  id: string;
  path: string;
  titleKey: string;
  mount(root: HTMLElement, ctx: AppContext): () => void;
}

/** The page list, one line per page (the nav shows them in this order; the first is the home page at `/`). */
export const PAGES: Page[] = [wallPage, devicesPage, playbackPage, manageDevicesPage, manageRelaysPage, recordPlansPage, streamsPage, healthPage];
