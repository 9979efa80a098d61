/**
 * The board picker: type to search names, aliases, vendors, model names and MCUs (Catalog.search).
 * Given what the firmware was built for, it offers the boards that fit first: with nothing typed
 * only those, and one more choice to see every board; once something is typed, the fitting
 * matches, then the others under a line that says they are for another MCU.
 */
import { Separator, search } from '@inquirer/prompts';
import type { Catalog } from '../../boards/catalog.js';
import type { Board } from '../../boards/types.js';
import type { Choice } from './drive-picker.js';
import type { FirmwareFit } from './firmware-match.js';
import { asking, clip } from './terminal.js';

function boardChoice(b: Board): Choice {
  const file = (b.folder.value ? `${b.folder.value}/` : '') + b.firmwareName.value;
  return {
    name: clip(`${b.name}  ${b.vendor}: ${b.models.slice(0, 3).join(', ')}${b.models.length > 3 ? ', …' : ''}`),
    value: b.name,
    description: `${b.mcu}, bootloader reads ${file}${b.aliases.length ? `; also called ${b.aliases.slice(0, 4).join(', ')}` : ''}`,
  };
}

/** The value of the "every board" choice: not a board name (names have no spaces). */
export const SHOW_ALL = ' all';

export type PickerItem = Choice | Separator;

/**
 * The choices for what has been typed so far (every board for nothing typed). With a fit and
 * `all` false, nothing typed lists the fitting boards and the way to the rest.
 */
export function boardChoices(catalog: Catalog, term: string | undefined, fit: FirmwareFit | null = null, all = false): PickerItem[] {
  const hits = catalog.search(term ?? '');
  if (!fit) return hits.map(boardChoice);
  const fitting = hits.filter((b) => fit.fits(b));
  const others = hits.filter((b) => !fit.fits(b));
  if (!others.length) return fitting.map(boardChoice);
  if (!term?.trim() && !all && fitting.length) {
    return [
      ...fitting.map(boardChoice),
      new Separator(),
      { name: `Show all ${hits.length} boards (the other ${others.length} are not for ${fit.label})`, value: SHOW_ALL, description: 'Or type to search every board.' },
    ];
  }
  return [...fitting.map(boardChoice), ...(fitting.length ? [new Separator(`── not for ${fit.label}, the firmware's MCU ──`)] : []), ...others.map(boardChoice)];
}

export async function pickBoard(catalog: Catalog, fit: FirmwareFit | null = null): Promise<string> {
  let all = false;
  for (;;) {
    // Short enough for 80 columns: inquirer wraps the question, never the answers.
    const none = fit !== null && !catalog.all().some((b) => fit.fits(b));
    const how = none ? `none is for ${fit.label}, the firmware's MCU; type to search` : fit && !all ? `for ${fit.label} first; type to search` : 'type to search: name, vendor, printer, MCU';
    const picked = await asking((context) =>
      search({ message: `Which board? (${how}; Esc cancels)`, source: async (term) => boardChoices(catalog, term, fit, all), pageSize: 10 }, context),
    );
    if (picked !== SHOW_ALL) return picked;
    all = true;
  }
}
