/**
 * `fwcard doctor`: run the firmware inspection and the card check for one board and turn their
 * findings into a numbered plan in the user's words: what is fine, what to fix in which order
 * (firmware before card, because the card commands write the firmware), and what the board
 * does at power-up. Plain data out; the CLI renders it.
 */
import { loadCatalog } from '../boards/catalog.js';
import type { Board } from '../boards/types.js';
import { inspectFirmware, type FirmwareReport, type Finding } from '../firmware/index.js';
import { describeAppStart, hex, mcuMemory } from '../firmware/mcu-memory.js';
import { formatBytes, formatGB } from '../util/size.js';
import { remedyCommands, type Remedy } from '../errors.js';
import { check, checkRemedy, remedyKind, type CheckFinding, type CheckResult, type RemedyKind } from './check.js';
import { readFirmwareFile } from './firmware-file.js';
import { recoveryStep, type Recovery } from './doctor/recovery.js';
import { powerUpFacts } from './doctor/power-up.js';
import { scan, type ScanResult } from './scan.js';
import { klipperPortOf, usbStep } from './doctor/usb-step.js';
import { DEFAULT_BUILD, isNoBootloaderBuild, keepBuildStep, pasteLine, withFirmware } from './doctor/firmware-routes.js';

export interface DoctorOptions {
  board: string;
  boardsFile?: string;
  /** The firmware the user means to put on the card. */
  firmware?: string;
  /** The card (block device) or image file to judge. */
  card?: string;
  /** Where the rebuilt firmware will be when --firmware must be rebuilt (default ~/klipper/out/klipper.bin). */
  rebuilt?: string;
  /** The serial port the user expects the board at (/dev/serial/by-id/…); checked against what USB shows. */
  port?: string;
}

/**
 * One numbered step. `fix`: a problem found, must be done; `do`: the normal next action;
 * `if-needed`: only when something goes wrong (the board ignores the card).
 */
export interface DoctorStep {
  id: string;
  kind: 'fix' | 'do' | 'if-needed';
  title: string;
  /** Why, and what to watch for, one sentence a line. */
  details: string[];
  /** Exact commands, in the order to run them. */
  commands: string[];
  /** Ids of the inspect/check findings this step resolves. */
  resolves: string[];
}

export interface DoctorResult {
  /** No step of kind `fix`. */
  ok: boolean;
  /** `name` is the catalog's; `asTyped` the alias the user gave (else the name), which the plan's lines use. */
  board: { name: string; asTyped: string; vendor: string; models: string[]; mcu: string };
  /** The firmware inspection, when --firmware was given. */
  firmware: ({ path: string; ok: boolean } & FirmwareReport) | null;
  /** The card check, when --card was given. */
  card: CheckResult | null;
  /** What is already right. */
  fine: string[];
  steps: DoctorStep[];
  /** What the board does with the card at power-up (and after `flash-sdcard`). */
  powerUp: string[];
  /** How to put the stock bootloader back if it was erased. */
  recovery: Recovery;
  /** What `fwcard scan` saw on USB and the serial ports. */
  usb: ScanResult;
}

/** Card info findings worth telling as "fine". */
const FINE_INFO = new Set(['firmware-matches', 'firmware-previously-flashed', 'will-scramble', 'will-encode']);

/** The commands a finding's remedy gives, with what each does to the card. */
const remediesOf = (f: CheckFinding): Remedy[] => remedyCommands(f.remedy);
const gives = (f: CheckFinding, ...kinds: RemedyKind[]): boolean => remediesOf(f).some((r) => kinds.includes(remedyKind(r)));

export async function doctor(opts: DoctorOptions): Promise<DoctorResult> {
  const catalog = loadCatalog(opts.boardsFile ? { boardsFile: opts.boardsFile } : {});
  const found = catalog.get(opts.board);
  // An alias stays as the user typed it in every line and command of the plan (issue 16): it
  // names the same board, and the user knows their board by it.
  const alias = found.aliases.find((a) => a.toLowerCase() === opts.board.toLowerCase());
  const board: Board = alias ? { ...found, name: alias } : found;
  const fine: string[] = [];
  const steps: DoctorStep[] = [];

  const rebuilt = opts.rebuilt ?? DEFAULT_BUILD;
  let firmware: DoctorResult['firmware'] = null;
  if (opts.firmware) {
    const file = readFirmwareFile(opts.firmware);
    const report = inspectFirmware(file.bytes, { board, fileName: opts.firmware });
    firmware = { path: opts.firmware, ok: !report.findings.some((f) => f.severity === 'error'), ...report };
    firmwareSteps(board, firmware, rebuilt, fine, steps);
  } else {
    steps.push(buildStep(board, rebuilt));
  }
  // The file every later command names: the given build when it is right, else the rebuilt one.
  // A build this plan calls wrong never goes on a card or at the application address.
  const use = firmware?.ok ? firmware.path : rebuilt;
  const bad = firmware && !firmware.ok ? [firmware.path] : [];
  const render = (r: Remedy | string[]): string => pasteLine(withFirmware(r, use, bad));

  let card: CheckResult | null = null;
  if (opts.card) {
    // A build that will be replaced is not worth comparing with the card's file.
    card = await check({ target: opts.card, board: opts.board, ...(opts.boardsFile ? { boardsFile: opts.boardsFile } : {}), ...(firmware?.ok ? { firmware: firmware.path } : {}) });
    cardSteps(board, card, { firmware: firmware?.ok ? firmware.path : null, replaces: !!opts.firmware, render }, fine, steps);
  } else {
    steps.push({
      id: 'prepare-card',
      kind: 'do',
      title: 'Prepare a card for the board (this erases the card)',
      details: ['`fwcard drives` lists the cards this machine sees; use the one in your reader instead of /dev/sdX.', ...cardRulesText(board)],
      commands: ['fwcard drives', render(['fwcard', 'prepare', '/dev/sdX', '--board', board.name, '--firmware', use])],
      resolves: [],
    });
  }

  const usb = scan();
  const power = powerUpFacts(board, opts.card ?? null);
  // The board's own by-id name where scan sees Klipper on its MCU, instead of the placeholder.
  const klipperPort = opts.port ?? klipperPortOf(board, usb);
  if (klipperPort) power.step.commands = power.step.commands.map((c) => c.replace('/dev/serial/by-id/<your-board>', pasteLine([klipperPort])));
  steps.push(power.step);
  steps.push(usbStep(board, usb, opts.port ?? null));
  const { recovery, ...restore } = recoveryStep(board, use);
  steps.push(restore);
  return {
    ok: !steps.some((s) => s.kind === 'fix'),
    board: { name: found.name, asTyped: board.name, vendor: board.vendor, models: board.models, mcu: board.mcu },
    firmware,
    card,
    fine,
    steps,
    powerUp: power.facts,
    recovery,
    usb,
  };
}

/** Klipper's menuconfig words for the board's application address(es). */
export function offsetChoice(board: Board): string {
  const family = mcuMemory(board.mcu)?.family;
  const starts = board.appStart.value;
  if (!starts.length) return 'the bootloader offset from the vendor instructions (not in the catalog)';
  return starts.map((a) => `"${describeAppStart(a, family).replace(' KiB bootloader', 'KiB bootloader')}" (${hex(a)})`).join(' or ');
}

function buildStep(board: Board, rebuilt: string): DoctorStep {
  return {
    id: 'build-firmware',
    kind: 'do',
    title: 'Build the firmware for this board (no --firmware given, so it was not checked)',
    details: [
      `In Klipper's \`make menuconfig\`: processor model ${board.mcu}, Bootloader offset ${offsetChoice(board)}.`,
      `Then check the build: \`${pasteLine(['fwcard', 'doctor', '--board', board.name, '--firmware', rebuilt])}\`.`,
    ],
    commands: rebuildCommands(board, rebuilt),
    resolves: [],
  };
}

function firmwareSteps(board: Board, fw: NonNullable<DoctorResult['firmware']>, rebuilt: string, fine: string[], steps: DoctorStep[]): void {
  const errors = fw.findings.filter((f) => f.severity === 'error');
  const warnings = fw.findings.filter((f) => f.severity === 'warning');
  if (errors.length === 0) {
    const what = fw.klipper ? `Klipper ${fw.klipper.version ?? ''} for ${fw.klipper.mcu ?? board.mcu}`.replace('  ', ' ') : fw.marlin ? `Marlin ${fw.marlin.version}` : fw.format;
    fine.push(`${fw.path}: ${what}${fw.linkedFor ? `, linked for ${fw.linkedFor}` : ''}: the ${board.name} bootloader will start it.`);
  } else {
    const details: string[] = [];
    // inspect names it wrong-offset, or no-bootloader-build once it tells that case apart.
    const noBootloader = fw.findings.some((f) => f.id === 'wrong-offset' || f.id === 'no-bootloader-build') && isNoBootloaderBuild(board, fw);
    if (noBootloader) {
      // Older inspect builds call it wrong-offset only: then say what a "No bootloader" build is.
      if (!fw.findings.some((f) => f.id === 'no-bootloader-build')) {
        details.push(`This is a "No bootloader" build: it is linked to run from the start of flash (${hex(fw.flashStart ?? fw.candidates[0]!)}), where the stock SD bootloader lives; the bootloader starts the application at ${hex(board.appStart.value[0] ?? 0)}, so it would crash.`);
      }
      details.push('A "No bootloader" build is for dfu-util or an ST-Link, and flashing it that way erases the SD bootloader: if you already did, see the last step.');
    }
    for (const f of errors) details.push(findingText(f));
    details.push(`Bootloader offset for the ${board.name}: ${offsetChoice(board)}. The commands of this plan name the rebuilt file, ${rebuilt}, never ${fw.path}${rebuilt === DEFAULT_BUILD ? ' (if your build lands elsewhere, give it with --rebuilt)' : ''}.`);
    steps.push({ id: 'rebuild-firmware', kind: 'fix', title: `Rebuild the firmware: ${fw.path} will not run on the ${board.name}`, details, commands: rebuildCommands(board, rebuilt), resolves: errors.map((f) => f.id) });
    // Route (b): the build is right for the start of flash, written over the ROM loader.
    const keep = noBootloader ? keepBuildStep(board, fw.path) : null;
    if (keep) steps.push(keep);
  }
  if (warnings.length) {
    steps.push({ id: 'firmware-warnings', kind: 'do', title: 'Check these points of the build', details: warnings.map(findingText), commands: [], resolves: warnings.map((f) => f.id) });
  }
}

function rebuildCommands(board: Board, rebuilt: string): string[] {
  const inKlipper = rebuilt === DEFAULT_BUILD ? ['cd ~/klipper'] : [];
  return [...inKlipper, 'make menuconfig', 'make', pasteLine(['fwcard', 'inspect', rebuilt, '--board', board.name])];
}

const sentence = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1) + (/[.?!]$/.test(s) ? '' : '.');
const findingText = (f: Finding | CheckFinding): string => `${sentence(f.message)}${f.hint ? ` ${f.hint}` : ''}`;

function cardRulesText(board: Board): string[] {
  const c = board.card.value;
  const out = [`The bootloader reads ${c.fileSystems.filter((f) => f !== 'exFAT').join(' or ')} on an MBR card${c.maxCardBytes ? `, cards up to ${formatGB(c.maxCardBytes)} as sold` : ''}; not exFAT${c.gpt ? '' : ', not GPT'}. fwcard prepare does it right on any card size.`];
  return out;
}

/** How the card steps name the firmware: the good build (or null), whether one replaces the card's file, and the renderer that swaps a wrong build for the rebuilt one. */
interface CardContext {
  firmware: string | null;
  replaces: boolean;
  render: (r: Remedy | string[]) => string;
}

function cardSteps(board: Board, card: CheckResult, opts: CardContext, fine: string[], steps: DoctorStep[]): void {
  const commandLine = opts.render;
  const problems = card.findings.filter((f) => f.severity !== 'info');
  for (const f of card.findings) if (f.severity === 'info' && FINE_INFO.has(f.id)) fine.push(sentence(f.message));
  if (!problems.some((f) => f.severity === 'error')) {
    const v = card.card.volume;
    const fw = card.files?.firmware;
    fine.push(
      `The card ${card.target}: ${formatBytes(card.card.sizeBytes)}, ${card.card.table === 'none' ? 'no partition table' : card.card.table.toUpperCase()}${v ? `, ${v.fs}` : ''}${fw ? `, ${fw.path} in place` : ''}: the ${board.name} bootloader can read it.`,
    );
  }
  // One format fixes every card-level problem and writes the firmware: it replaces the other card steps.
  const reformat = problems.filter((f) => f.severity === 'error' && gives(f, 'reformat'));
  if (reformat.length) {
    const cmds = problems.flatMap(remediesOf).filter((r) => remedyKind(r) === 'reformat');
    // The longest command carries every option the findings ask for (e.g. --partition-size).
    const best = cmds.reduce((a, b) => (b.argv.length > a.argv.length ? b : a));
    const covered = problems.filter((f) => gives(f, 'reformat', 'rewrite-firmware', 'fix-names') || f.fix?.length || replacedFile(f, opts));
    steps.push({
      id: 'recreate-card',
      kind: 'fix',
      title: `Re-create the card: the ${board.name} bootloader cannot read it as it is (this erases the card)`,
      details: [...covered.map((f) => sentence(f.message)), ...cardRulesText(board)],
      commands: [commandLine(best), commandLine(checkRemedy(card.target, { board: board.name, firmware: opts.firmware }))],
      resolves: covered.map((f) => f.id),
    });
    otherSteps(problems.filter((f) => !covered.includes(f)), steps, commandLine);
    return;
  }
  const fixable = problems.filter((f) => f.fix?.length || gives(f, 'fix-names'));
  if (fixable.length) {
    steps.push({
      id: 'fix-card-names',
      kind: fixable.some((f) => f.severity === 'error') ? 'fix' : 'do',
      title: 'Repair the file names on the card (no formatting)',
      details: fixable.map(findingText),
      commands: [commandLine(checkRemedy(card.target, { board: board.name, fix: true }))],
      resolves: fixable.map((f) => f.id),
    });
  }
  const rewrite = problems.filter((f) => !fixable.includes(f) && gives(f, 'rewrite-firmware'));
  // The file on the card is replaced by --firmware: what is wrong with the old one no longer matters.
  if (rewrite.length) rewrite.push(...problems.filter((f) => !fixable.includes(f) && !rewrite.includes(f) && replacedFile(f, opts)));
  if (rewrite.length) {
    const cmd = rewrite.flatMap(remediesOf).find((r) => remedyKind(r) === 'rewrite-firmware')!;
    steps.push({
      id: 'write-firmware',
      kind: rewrite.some((f) => f.severity === 'error') ? 'fix' : 'do',
      title: `Write the firmware under the name the bootloader looks for (${board.folder.value ? board.folder.value + '/' : ''}${board.firmwareName.value}); the card keeps its files`,
      details: rewrite.map(findingText),
      commands: [commandLine(cmd)],
      resolves: rewrite.map((f) => f.id),
    });
  }
  otherSteps(problems.filter((f) => !fixable.includes(f) && !rewrite.includes(f)), steps, commandLine);
}

/** A finding about the firmware image now on the card (check's image-… ids), when --firmware replaces it. */
function replacedFile(f: CheckFinding, opts: CardContext): boolean {
  return opts.replaces && f.id.startsWith('image-');
}

/** Problems no fwcard command fixes (a locked card, a card the board reportedly rejects): say them. */
function otherSteps(rest: CheckFinding[], steps: DoctorStep[], commandLine: (r: Remedy) => string): void {
  if (!rest.length) return;
  const errors = rest.filter((f) => f.severity === 'error');
  steps.push({
    id: 'card-other',
    kind: errors.length ? 'fix' : 'do',
    title: errors.length ? 'Fix these card problems' : 'Worth checking on the card',
    details: rest.map(findingText),
    commands: rest.flatMap(remediesOf).map(commandLine).filter((c, i, all) => all.indexOf(c) === i),
    resolves: rest.map((f) => f.id),
  });
}
