/**
 * What the board does with the card at power-up, from its catalog facts: the bus its
 * bootloader reads the card over, the file it looks for, what it does with the file after
 * flashing, and how Klipper's flash-sdcard (our `fwcard flash-sdcard`) finishes on it.
 */
import type { Board } from '../../boards/types.js';
import { commandLine } from '../../errors.js';
import { checkRemedy } from '../check.js';
import type { DoctorStep } from '../doctor.js';

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function powerUpFacts(board: Board, card: string | null): { facts: string[]; step: DoctorStep } {
  const file = (board.folder.value ? `${board.folder.value}/` : '') + board.firmwareName.value;
  const bus = board.bootloaderBus.value;
  const who = `the ${boardWords(board)}`;
  const k = board.klipper;
  const facts: string[] = [];
  facts.push(
    file === '*.bin'
      ? 'At power-up the bootloader looks for a .bin file in the root of the card and flashes it (any name ending .bin).'
      : `At power-up the bootloader looks for ${file} on the card (exactly that name) and flashes it; it takes a few seconds.`,
  );
  const after = board.afterFlash.value;
  if (after === 'left') facts.push('It leaves the file on the card: take the card out (or delete the file) after the flash, or the board flashes again at every power-up.');
  else if (after === 'deleted') facts.push('It deletes the file after flashing: an empty card afterwards means the flash happened.');
  else facts.push(`It renames the file to ${after} after flashing: seeing ${after} on the card means the flash happened.`);
  if (board.uniqueName.value) facts.push('It ignores a file under a name it flashed before: every flash needs a new name (`fwcard prepare … --no-format` picks one).');
  if (bus === 'sdio') {
    facts.push(
      k
        ? `${cap(who)} reads the card over SDIO: after \`fwcard flash-sdcard\`, power-cycle it (switch the power off and on; the reset button is not enough, because flash-sdcard leaves the card in SPI mode and only a power loss resets it).`
        : `${cap(who)} reads the card over SDIO: to flash, power it off, insert the card and power it on.`,
    );
  } else if (bus === 'spi') {
    facts.push(`${cap(who)} reads the card over SPI: a reset${k ? ' (or `fwcard flash-sdcard`, which resets it)' : ''} is enough to start the flash.`);
  } else {
    facts.push(`The catalog does not know whether ${who} bootloader reads the card over SPI or SDIO: if a reset does not flash it, power-cycle it.`);
  }
  const details = [...facts];
  if (card) details.push('Afterwards, check the card again in the PC: the firmware file should be gone or renamed.');
  const commands: string[] = [];
  if (card) commands.push(commandLine(checkRemedy(card, { board: board.name })));
  if (k) {
    if (k.skipVerify) {
      details.push(`Later updates without taking the card out (Klipper on the board, serial connected): \`fwcard flash-sdcard <device> ${board.name}\`, then power-cycle, then \`fwcard flash-sdcard -c <device> ${board.name}\` to check it runs the new build.`);
      commands.push(`fwcard flash-sdcard /dev/serial/by-id/<your-board> ${board.name}`, `fwcard flash-sdcard -c /dev/serial/by-id/<your-board> ${board.name}`);
    } else {
      details.push(`Later updates without taking the card out (Klipper on the board, serial connected): \`fwcard flash-sdcard <device> ${board.name}\` uploads, resets and verifies in one go.`);
      commands.push(`fwcard flash-sdcard /dev/serial/by-id/<your-board> ${board.name}`);
    }
  } else {
    details.push(`Klipper's flash-sdcard has no definition for the ${board.name}: update it by preparing the card on a PC again.`);
  }
  return { facts, step: { id: 'power-up', kind: 'do', title: 'Put the card in the board and power it on', details, commands, resolves: [] } };
}

/**
 * The board as its owner calls it: the words its model names share ("Octopus" for Octopus
 * V1.0 / V1.1 / Pro), else the first model name, else the catalog key.
 */
export function boardWords(board: Board): string {
  const models = board.models.map((m) => m.split(/\s+/));
  if (!models.length) return board.name;
  const common: string[] = [];
  for (let i = 0; models.every((m) => m[i] !== undefined && m[i]!.toLowerCase() === models[0]![i]!.toLowerCase()); i++) common.push(models[0]![i]!);
  // A lone version or vendor-ish fragment ("V1.0", "(F446)") says nothing: keep whole names then.
  const words = common.join(' ').replace(/\s*\(.*$/, '');
  return words.length >= 3 ? words : board.models[0]!;
}
