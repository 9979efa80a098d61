import type { Job } from './build.js';
import { busLabel } from './card-bus.js';
import type { McuLink } from './link.js';
import type { Survey } from './plan.js';
import { folderOf } from './plan.js';
import { openRemoteCard, type OpenCardOptions, type RemoteCard } from './remote-card.js';

/**
 * Run `work`, then `close`, whatever happens. A failure of `work` is the error reported (a close
 * that fails after it is not); when `work` succeeded, a close that fails is the error.
 */
export async function closingAfter<T>(work: () => Promise<T>, close: () => Promise<void>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
  await close();
  return result;
}

/** One session with the board's card: opened over the link's current MCU session, always closed after `work`. */
export async function withCard<T>(link: McuLink, job: Job, o: OpenCardOptions, work: (card: RemoteCard) => Promise<T>): Promise<T> {
  const card = await openRemoteCard(link.session, job.board, o);
  return closingAfter(() => work(card), () => card.close());
}

/** The files (not directories) in the board's firmware folder; none when the folder is not there. */
export async function listFolder(card: RemoteCard, job: Job): Promise<string[]> {
  const dir = folderOf(job) ?? '/';
  if (dir !== '/' && !(await card.volume.tryStat(dir))) return [];
  return (await card.volume.list(dir)).filter((e) => !e.isDir).map((e) => e.name);
}

/** What the MCU and its card say, for the plan. */
export async function surveyCard(link: McuLink, job: Job, card: RemoteCard, o: { device: string; previousVersion: string | null }): Promise<Survey> {
  return {
    device: o.device,
    mcu: link.mcu,
    previousVersion: o.previousVersion,
    bus: busLabel(job.board),
    card: card.facts,
    files: await listFolder(card, job),
    pendingUndo: card.pendingUndo,
  };
}
