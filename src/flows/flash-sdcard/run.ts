import type { CardProbe } from '../../partition/probe.js';
import type { ProgressListener } from '../../progress.js';
import type { Job } from './build.js';
import { withCard } from './card-session.js';
import type { McuLink } from './link.js';
import type { RemoteCard } from './remote-card.js';
import type { StopPoints } from './stop.js';
import type { FlashSdcardOptions } from './types.js';
import type { CardRepairHook } from '../repair-card/hook.js';

/** One run of flash-sdcard: what the step sequences share. */
export interface Run {
  opts: FlashSdcardOptions;
  job: Job;
  link: McuLink;
  progress: ProgressListener;
  /** Date.now() at the start, for durationMs. */
  started: number;
  /** What the MCU ran when we first connected. */
  previousVersion: string | null;
  /** The safe points where a stop asked for (opts.signal) ends the run. */
  stop: StopPoints;
  /** The card's partition table, read by the first card session, kept for the next (see OpenCardOptions.probes). */
  probes?: Map<string, CardProbe>;
  /** --format and unfinished repairs (repair-card/hook.ts), run at the first card session. */
  repair?: CardRepairHook;
}

/** A card session over the run's link, with the run's bus speed, progress and trace. */
export function cardSession<T>(run: Run, o: { needWrite: boolean; readOnly?: boolean }, work: (card: RemoteCard) => Promise<T>): Promise<T> {
  const { fastSpi, trace } = run.opts;
  const probes = (run.probes ??= new Map());
  return withCard(run.link, run.job, { fastSpi: !!fastSpi, ...o, probes, onProgress: run.progress, ...(trace ? { trace } : {}), ...(run.repair ? { repair: run.repair } : {}) }, work);
}
