/** The board picker: type to search names, aliases, vendors, model names and MCUs (Catalog.search). */
import { search } from '@inquirer/prompts';
import type { Catalog } from '../../boards/catalog.js';
import type { Board } from '../../boards/types.js';
import type { Choice } from './drive-picker.js';
import { asking, promptContext } from './terminal.js';

function boardChoice(b: Board): Choice {
  const file = (b.folder.value ? `${b.folder.value}/` : '') + b.firmwareName.value;
  return {
    name: `${b.name}  ${b.vendor}: ${b.models.slice(0, 3).join(', ')}${b.models.length > 3 ? ', …' : ''}`,
    value: b.name,
    description: `${b.mcu}, bootloader reads ${file}${b.aliases.length ? `; also called ${b.aliases.slice(0, 4).join(', ')}` : ''}`,
  };
}

/** The choices for what has been typed so far (every board for nothing typed). */
export function boardChoices(catalog: Catalog, term: string | undefined): Choice[] {
  return catalog.search(term ?? '').map(boardChoice);
}

export async function pickBoard(catalog: Catalog): Promise<string> {
  return asking(() => search({ message: 'Which board? (type to search: name, vendor, printer, MCU)', source: async (term) => boardChoices(catalog, term), pageSize: 10 }, promptContext()));
}
