import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../boards/catalog.js';
import type { Board } from '../../boards/types.js';
import { DeviceError, FormatError, UsageError, fromSystemError } from '../../errors.js';
import { extractKlipperDictionary } from '../../firmware/index.js';
import { checkFirmwareForBoard, type Finding } from '../firmware-check.js';
import { readFirmwareFile, sha256 } from '../firmware-file.js';
import type { FlashSdcardOptions } from './types.js';

export const defaultFirmwarePath = () => join(homedir(), 'klipper', 'out', 'klipper.bin');
export const defaultDictionaryPath = () => join(homedir(), 'klipper', 'out', 'klipper.dict');

/** The board and the build to put on it: everything known before the MCU is asked anything. */
export interface Job {
  board: Board;
  firmwarePath: string;
  /** The bytes that go onto the card (after the board's conversion). */
  data: Uint8Array;
  sha256: string;
  findings: Finding[];
  /** The MCU and version the build's dictionary names (-d, the default klipper.dict, or the one inside the firmware). */
  buildMcu: string | null;
  expectedVersion: string | null;
}

interface Dict {
  version?: string;
  config?: Record<string, unknown>;
}

/** Read and check everything the run needs from the host; refuses a firmware that fails its check (unless --force). */
export function loadJob(opts: FlashSdcardOptions): Job {
  const board = boardWithDefinition(opts.board, opts.boardsFile);
  const firmwarePath = opts.firmware ?? defaultFirmwarePath();
  const fw = readFirmwareFile(firmwarePath);
  const check = checkFirmwareForBoard(fw.bytes, board, firmwarePath);
  const errors = check.findings.filter((f) => f.severity === 'error');
  if (errors.length && !opts.force) {
    const first = errors[0]!;
    throw new UsageError(`firmware-${first.id}`, `firmware check failed for ${board.name}: ${first.message}`, {
      hint: `${first.hint ? first.hint + ' ' : ''}(--force uploads it anyway.)`,
      details: { findings: check.findings },
    });
  }
  const dictPath = opts.dictionary ?? (existsSync(defaultDictionaryPath()) ? defaultDictionaryPath() : undefined);
  const dict: Dict | null = dictPath ? readDictionary(dictPath) : (extractKlipperDictionary(fw.bytes) as Dict | null);
  return {
    board,
    firmwarePath,
    data: check.writeBytes,
    sha256: sha256(check.writeBytes),
    findings: check.findings,
    buildMcu: dict?.config?.MCU ? String(dict.config.MCU) : null,
    expectedVersion: dict?.version || null,
  };
}

/** Refuse an MCU other than the build's or the board's (Klipper's flash script does the first). */
export function checkMcu(job: Pick<Job, 'board' | 'buildMcu'>, mcu: string, device: string): void {
  const { board, buildMcu } = job;
  const k = board.klipper!;
  if (buildMcu && mcu && buildMcu !== mcu) {
    throw new DeviceError('mcu-type-mismatch', `MCU Type mismatch: Build MCU = ${buildMcu}, Connected MCU = ${mcu}`, {
      hint: `The firmware was built for ${buildMcu} but ${device} is a ${mcu}. Pick the board name that matches this board (\`fwcard flash-sdcard -l\`), or rebuild Klipper for ${mcu}.`,
      details: { buildMcu, connectedMcu: mcu },
    });
  }
  if (mcu && board.mcu && mcu !== board.mcu && !(k.mcu === mcu)) {
    throw new DeviceError('mcu-type-mismatch', `MCU Type mismatch: board ${board.name} has a ${k.mcu}, Connected MCU = ${mcu}`, {
      hint: `Pick the board definition for a ${mcu} (\`fwcard flash-sdcard -l\`).`,
      details: { boardMcu: k.mcu, connectedMcu: mcu },
    });
  }
}

function readDictionary(path: string): Dict {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw fromSystemError(e, path, 'read the dictionary');
  }
  try {
    return JSON.parse(text) as Dict;
  } catch {
    throw new FormatError('bad-dictionary', `${path} is not a Klipper data dictionary (klipper.dict, JSON)`, {
      hint: 'Pass the klipper.dict from the same build as the firmware (out/klipper.dict), or leave -d out.',
    });
  }
}

function boardWithDefinition(name: string, boardsFile: string | undefined): Board {
  const board = loadCatalog(boardsFile ? { boardsFile } : {}).get(name);
  if (!board.klipper) {
    throw new UsageError('no-flash-sdcard-definition', `${board.name} has no flash-sdcard definition (how its MCU reaches the SD card is not known)`, {
      hint: 'Prepare the card on a PC instead: `fwcard prepare /dev/sdX --board ' + board.name + ' --firmware klipper.bin`, or add the bus and pins in a --boards-file.',
    });
  }
  return board;
}
