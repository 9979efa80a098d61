/**
 * Which boards a firmware file was built for, so that the board picker can offer those first.
 * A Klipper build names its MCU in its dictionary ("stm32f446xx"): the boards with that MCU
 * match. Without one (Marlin, a stripped build) the image still tells its family and the
 * address it was linked for: the boards of that family whose bootloader starts the application
 * there match. Nothing is refused here: the picker still offers every board, and prepare and
 * doctor judge the pair as they always do.
 */
import type { Board } from '../../boards/types.js';
import { inspectFirmware, mcuMemory, type FirmwareReport, type McuFamily } from '../../firmware/index.js';
import { readFirmwareFile } from '../../flows/firmware-file.js';

export interface FirmwareFit {
  /** What the firmware is for, in the picker's words: "stm32f446xx", "stm32 at 0x08007000" (a build without a dictionary). */
  label: string;
  fits(board: Board): boolean;
}

function familyOf(mcu: string): McuFamily | null {
  const known = mcuMemory(mcu)?.family;
  if (known) return known;
  if (/^(stm32|gd32|n32g|at32)/i.test(mcu)) return 'stm32';
  if (/^lpc17/i.test(mcu)) return 'lpc176x';
  if (/^hc32/i.test(mcu)) return 'hc32f460';
  return null;
}

/** The fit of an inspected image; null when the image says nothing that narrows the boards. */
export function firmwareFit(report: Pick<FirmwareReport, 'mcu' | 'family' | 'flashStart'>): FirmwareFit | null {
  const mcu = report.mcu?.toLowerCase();
  if (mcu) {
    // Klipper's name for the MCU is the catalog's; a board built as another MCU (BTT002) says so in `klipper.mcu`.
    return { label: mcu, fits: (b) => b.mcu.toLowerCase() === mcu || b.klipper?.mcu.toLowerCase() === mcu };
  }
  const { family, flashStart } = report;
  if (!family || flashStart === null) return null;
  return {
    label: `${family} at 0x${flashStart.toString(16).padStart(8, '0')}`,
    fits: (b) => familyOf(b.mcu) === family && b.appStart.value.includes(flashStart),
  };
}

/** The fit of a firmware file; null when it cannot be read (the command reports that itself) or says nothing. */
export function firmwareFileFit(path: string | undefined): FirmwareFit | null {
  if (!path) return null;
  try {
    return firmwareFit(inspectFirmware(readFirmwareFile(path).bytes));
  } catch {
    return null;
  }
}
