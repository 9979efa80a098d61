import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../boards/catalog.js';
import type { Board } from '../../boards/types.js';
import { DeviceError, FormatError, UsageError, VerifyError, fromSystemError } from '../../errors.js';
import { extractKlipperDictionary } from '../../firmware/index.js';
import type { McuSession } from '../../klipper/session.js';
import { noProgress, type ProgressListener } from '../../progress.js';
import type { SdCardFacts } from '../../sdcard/card-facts.js';
import type { UndoOutcome } from '../../fat/update-log.js';
import { acquireLock } from '../../util/lock.js';
import { cardFileName, cardPath } from '../card-name.js';
import { checkFirmwareForBoard, type Finding } from '../firmware-check.js';
import { readFirmwareFile, sha256 } from '../firmware-file.js';
import { connectMcu, serialTransport, waitForReturn, type TransportFactory } from './connect.js';
import { openRemoteCard, type RemoteCard } from './remote-card.js';

export const DEFAULT_BAUD = 250000;
export const defaultFirmwarePath = () => join(homedir(), 'klipper', 'out', 'klipper.bin');
export const defaultDictionaryPath = () => join(homedir(), 'klipper', 'out', 'klipper.dict');

export interface FlashSdcardOptions {
  device: string;
  board: string;
  baud?: number;
  firmware?: string;
  /** klipper.dict of the build; default ~/klipper/out/klipper.dict when it exists. */
  dictionary?: string;
  /** -c: only verify what the board runs / what is on its card; upload nothing. */
  checkOnly?: boolean;
  /** -s: 4 MHz SPI instead of 400 kHz. */
  fastSpi?: boolean;
  force?: boolean;
  boardsFile?: string;
  transport?: TransportFactory;
  connectTimeoutMs?: number;
  reconnectTimeoutMs?: number;
  onProgress?: ProgressListener;
  trace?: (line: string) => void;
  now?: Date;
}

export type Verification = 'dictionary' | 'version-changed' | 'checksum' | 'deferred';

export interface FlashSdcardResult {
  board: string;
  device: string;
  mcu: string;
  firmwarePath: string;
  sha256: string;
  firmwareSize: number;
  uploaded: boolean;
  verification: Verification;
  /** Version the MCU ran before. */
  previousVersion: string | null;
  /** Version it runs after verification (null when deferred). */
  version: string | null;
  card: SdCardFacts | null;
  removed: string[];
  /** The flash-loop guard deleted a firmware file the bootloader left behind. */
  leftoverDeleted: boolean;
  findings: Finding[];
  /** Upload + read-back, ms, and firmware bytes per second over that. */
  uploadMs: number;
  bytesPerSecond: number;
  durationMs: number;
  /** What to do next (deferred boards: the power cycle). */
  next: string | null;
  /** Serial traffic of the upload + read-back (for benchmarks and bug reports). */
  link: UploadLinkStats | null;
  /**
   * An update of the card's FAT that an earlier run left half-written (killed, host powered off,
   * board unplugged), found in the host's record: undone, or set aside when the card had changed.
   */
  interruptedUpdate: UndoOutcome;
}

export interface UploadLinkStats {
  bytesToMcu: number;
  bytesFromMcu: number;
  retransmits: number;
  /** SD-bus messages that waited for an answer (spi_transfer / sdio reads). */
  roundTrips: number;
  /** All SD-bus messages. */
  messages: number;
}

interface Dict {
  version?: string;
  config?: Record<string, unknown>;
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

function mcuOf(session: McuSession): string {
  return String(session.dictionary.constant('MCU') ?? '');
}

/**
 * Klipper's flash-sdcard flow: connect, check the MCU, reset a configured MCU, drive the board's
 * SD card through the MCU, upload (temporary name, read back, rename), reset so the bootloader
 * flashes it, reconnect and verify — or stop after the upload on boards whose bootloader needs a
 * power cycle (SDIO), to be completed with -c.
 */
export async function flashSdcard(opts: FlashSdcardOptions): Promise<FlashSdcardResult> {
  const started = Date.now();
  const progress = opts.onProgress ?? noProgress;
  const board = boardWithDefinition(opts.board, opts.boardsFile);
  const k = board.klipper!;
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
  const data = check.writeBytes;
  const digest = sha256(data);
  const dictPath = opts.dictionary ?? (existsSync(defaultDictionaryPath()) ? defaultDictionaryPath() : undefined);
  const dict: Dict | null = dictPath ? readDictionary(dictPath) : (extractKlipperDictionary(fw.bytes) as Dict | null);
  const buildMcu = dict?.config?.MCU ? String(dict.config.MCU) : null;
  const transport = opts.transport ?? serialTransport;
  const baud = opts.baud ?? DEFAULT_BAUD;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 60_000;
  const reconnectTimeoutMs = opts.reconnectTimeoutMs ?? 30_000;
  const connect = () => connectMcu({ device: opts.device, baud, transport, timeoutMs: connectTimeoutMs, onProgress: progress, ...(opts.trace ? { trace: opts.trace } : {}) });

  // A USB board re-enumerates after a reset: follow its device path. A link that is not a path
  // (an in-process simulator) just comes back, and connect() retries until it does.
  const isPath = existsSync(opts.device);
  const awaitReturn = async () => {
    if (isPath) await waitForReturn(opts.device, { timeoutMs: reconnectTimeoutMs, onProgress: progress });
  };
  const lock = acquireLock(opts.device, 'serial port');
  let session: McuSession | null = null;
  let card: RemoteCard | null = null;
  try {
    session = await connect();
    const mcu = mcuOf(session);
    if (buildMcu && mcu && buildMcu !== mcu) {
      throw new DeviceError('mcu-type-mismatch', `MCU Type mismatch: Build MCU = ${buildMcu}, Connected MCU = ${mcu}`, {
        hint: `The firmware was built for ${buildMcu} but ${opts.device} is a ${mcu}. Pick the board name that matches this board (\`fwcard flash-sdcard -l\`), or rebuild Klipper for ${mcu}.`,
        details: { buildMcu, connectedMcu: mcu },
      });
    }
    if (mcu && board.mcu && mcu !== board.mcu && !(k.mcu === mcu)) {
      throw new DeviceError('mcu-type-mismatch', `MCU Type mismatch: board ${board.name} has a ${k.mcu}, Connected MCU = ${mcu}`, {
        hint: `Pick the board definition for a ${mcu} (\`fwcard flash-sdcard -l\`).`,
        details: { boardMcu: k.mcu, connectedMcu: mcu },
      });
    }
    const previousVersion = session.dictionary.version || null;

    // A configured or shut-down MCU will not take a new configuration: reset it first.
    const state = await session.getConfig();
    if (state.isConfig || state.isShutdown) {
      progress({ phase: 'reset', label: `the MCU is ${state.isShutdown ? 'shut down' : 'configured'}: resetting it` });
      await session.reset();
      session = null;
      await awaitReturn();
      session = await connect();
    }

    card = await openRemoteCard(session, board, { fastSpi: !!opts.fastSpi, needWrite: !opts.checkOnly, onProgress: progress, ...(opts.trace ? { trace: opts.trace } : {}) });
    let interruptedUpdate = card.interrupted;
    const folder = board.folder.value.replace(/^\/+|\/+$/g, '');
    const dirPath = folder ? `/${folder}` : '/';
    const existing = dirPath === '/' || (await card.volume.tryStat(dirPath)) ? (await card.volume.list(dirPath)).filter((e) => !e.isDir).map((e) => e.name) : [];
    const curName = k.currentFirmwarePath;

    if (opts.checkOnly) {
      const seen = await inspectCard(card, board, digest, existing);
      const version = session.dictionary.version || null;
      let verification: Verification;
      if (dict?.version) {
        if (version !== dict.version) {
          throw new VerifyError('version-mismatch', `Version Mismatch: Got '${version}', expected '${dict.version}'`, {
            hint: 'The board still runs the old firmware. Turn the printer fully off and on (SDIO boards need a real power cycle), then run with -c again.',
            details: { running: version, expected: dict.version },
          });
        }
        verification = 'dictionary';
      } else if (seen.matched) {
        verification = 'checksum';
      } else {
        throw new VerifyError('verify-failed', `could not verify: no ${k.currentFirmwarePath} matching ${firmwarePath} on the card${seen.curPath ? ' (it holds a different firmware)' : ''}`, {
          hint: 'Power-cycle the board so its bootloader flashes the uploaded file, then run -c again; pass -d out/klipper.dict to verify by version.',
        });
      }
      // Confirmed: a firmware file still waiting under the flashed name would flash again at
      // every power-up.
      let leftoverDeleted = false;
      if (seen.leftover) {
        await card.volume.unlink(seen.leftover);
        leftoverDeleted = true;
      }
      await card.close();
      card = null;
      await session.close();
      session = null;
      return {
        board: board.name, device: opts.device, mcu, firmwarePath: seen.curPath ?? cardPath(board, k.currentFirmwarePath), sha256: digest, firmwareSize: data.byteLength,
        uploaded: false, verification, previousVersion, version, card: null, removed: [],
        leftoverDeleted, findings: check.findings, uploadMs: 0, bytesPerSecond: 0, durationMs: Date.now() - started, next: null, link: null, interruptedUpdate,
      };
    }

    // Upload: temporary name, read back, compare, then the name the bootloader looks for.
    const name = k.requiresUniqueFwName || board.uniqueName.value ? cardFileName(board, opts.now ?? new Date(), existing) : k.firmwarePath;
    const finalPath = cardPath(board, name);
    const removed: string[] = [];
    if (folder) await card.volume.mkdir(dirPath);
    const tmp = `${folder ? dirPath : ''}/FWCARD.TMP`;
    const t0 = Date.now();
    const s0 = session.stats;
    const b0 = card.busCounters();
    if (await card.volume.tryStat(tmp)) await card.volume.unlink(tmp);
    progress({ phase: 'upload', label: `uploading ${finalPath}`, bytes: 0, total: data.byteLength });
    await card.volume.writeFile(tmp, data, (e) => progress({ ...e, phase: 'upload', label: `uploading ${finalPath}` }));
    progress({ phase: 'verify', label: 'reading back from the card', bytes: 0, total: data.byteLength });
    card.readAhead(data.byteLength);
    const back = await card.volume.readFile(tmp, (e) => progress({ ...e, phase: 'verify', label: 'reading back from the card' }));
    if (sha256(back) !== digest) {
      await card.volume.unlink(tmp).catch(() => undefined);
      throw new VerifyError('checksum-mismatch', `Checksum Mismatch: the file read back from the card differs from ${firmwarePath}`, {
        hint: 'The card or the link corrupts data. Run again; if it repeats, try -s off/on, another card, or reflash by hand.',
        details: { expected: digest, actual: sha256(back) },
      });
    }
    if (k.requiresUniqueFwName || board.uniqueName.value) {
      for (const n of existing) {
        if (/\.bin$/i.test(n) && n.toLowerCase() !== name.toLowerCase()) {
          await card.volume.unlink(cardPath(board, n));
          removed.push(cardPath(board, n));
        }
      }
    }
    if (await card.volume.tryStat(finalPath)) await card.volume.unlink(finalPath);
    await card.volume.rename(tmp, finalPath);
    const uploadMs = Date.now() - t0;
    const s1 = session.stats;
    const b1 = card.busCounters();
    const diff = (k: string) => (b1[k] ?? 0) - (b0[k] ?? 0);
    const link: UploadLinkStats | null = s0 && s1 ? {
      bytesToMcu: s1.bytesWritten - s0.bytesWritten,
      bytesFromMcu: s1.bytesRead - s0.bytesRead,
      retransmits: s1.retransmits - s0.retransmits,
      roundTrips: diff('transfers') + diff('reads'),
      messages: diff('transfers') + diff('sends') + diff('reads') + diff('writes'),
    } : null;
    progress({ phase: 'verify', label: `${finalPath} verified on the card`, bytes: data.byteLength, total: data.byteLength, done: true });
    const facts = card.facts;
    await card.close();
    card = null;

    const base = {
      board: board.name, device: opts.device, mcu, firmwarePath: finalPath, sha256: digest, firmwareSize: data.byteLength, uploaded: true,
      previousVersion, card: facts, removed, findings: check.findings, uploadMs, link, bytesPerSecond: uploadMs > 0 ? Math.round((data.byteLength * 1000) / uploadMs) : 0,
    };
    if (k.skipVerify) {
      await session.close();
      session = null;
      return {
        ...base, verification: 'deferred', version: null, leftoverDeleted: false, durationMs: Date.now() - started, interruptedUpdate,
        next: `This board's bootloader reads the card over SDIO, and the card stays in SPI mode until its power is cut: turn the printer fully off and on again (a reset is not enough), then run: fwcard flash-sdcard -c ${opts.device} ${board.name}`,
      };
    }

    // Reset: the bootloader flashes the card; then see what runs.
    progress({ phase: 'reset', label: 'resetting the MCU so the bootloader flashes the card' });
    await session.reset();
    session = null;
    await awaitReturn();
    session = await connect();
    const version = session.dictionary.version || null;
    const state2 = await session.getConfig();
    if (state2.isConfig || state2.isShutdown) {
      await session.reset();
      session = null;
      await awaitReturn();
      session = await connect();
    }
    card = await openRemoteCard(session, board, { fastSpi: !!opts.fastSpi, needWrite: true, onProgress: progress, ...(opts.trace ? { trace: opts.trace } : {}) });
    if (interruptedUpdate.status === 'none') interruptedUpdate = card.interrupted;
    const after = (await card.volume.list(dirPath)).filter((e) => !e.isDir).map((e) => e.name);
    const cardCheck = await inspectCard(card, board, digest, after, finalPath);
    let leftoverDeleted = false;
    if (cardCheck.leftover) {
      // Klipper does the same: a file the bootloader did not rename would flash at every boot.
      await card.volume.unlink(cardCheck.leftover);
      leftoverDeleted = true;
    }
    await card.close();
    card = null;
    await session.close();
    session = null;

    let verification: Verification;
    if (dict?.version) {
      if (version !== dict.version) {
        throw new VerifyError('version-mismatch', `Version Mismatch: Got '${version}', expected '${dict.version}'`, {
          hint: 'The bootloader did not flash the new firmware. Check the board name (file name on the card) and the build offset, then try again.',
          details: { running: version, expected: dict.version, leftoverDeleted },
        });
      }
      verification = 'dictionary';
    } else if (version && previousVersion && version !== previousVersion) {
      verification = 'version-changed';
    } else if (cardCheck.matched) {
      verification = 'checksum';
    } else {
      throw new VerifyError('verify-failed', `could not verify the flash: the MCU runs the same version (${version}) and no ${curName} matching the upload was found`, {
        hint: 'The bootloader did not take the file. Check the board name and the firmware offset (`fwcard inspect`), or power-cycle the board and run with -c.',
      });
    }
    return { ...base, verification, version, leftoverDeleted, durationMs: Date.now() - started, next: null, interruptedUpdate };
  } finally {
    if (card) await card.close().catch(() => undefined);
    if (session) await session.close().catch(() => undefined);
    lock.release();
  }
}

/**
 * What the card says after a flash: whether the bootloader's renamed file (FIRMWARE.CUR,
 * OLD.BIN, …) matches our upload, and whether a firmware file is still there under the name the
 * bootloader flashes (it would be flashed again at every power-up: the flash-loop guard deletes
 * it once the flash is confirmed).
 */
async function inspectCard(card: RemoteCard, board: Board, digest: string, names: string[], uploadedPath?: string): Promise<{ matched: boolean; curPath: string | null; leftover: string | null }> {
  const k = board.klipper!;
  const lower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const curName = lower.get(k.currentFirmwarePath.toLowerCase());
  const curPath = curName ? cardPath(board, curName) : null;
  let matched = false;
  if (curPath) {
    card.readAhead((await card.volume.tryStat(curPath))?.size ?? 0);
    matched = sha256(await card.volume.readFile(curPath)) === digest;
  }
  const flashedName = (uploadedPath ?? cardPath(board, k.firmwarePath)).split('/').pop()!.toLowerCase();
  const real = flashedName !== k.currentFirmwarePath.toLowerCase() ? lower.get(flashedName) : undefined;
  return { matched, curPath, leftover: real ? cardPath(board, real) : null };
}
