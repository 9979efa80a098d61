import type { Command } from 'commander';
import { resolveSource } from '../../boards/sources.js';
import type { Board, Sourced } from '../../boards/types.js';
import { UsageError } from '../../errors.js';
import { describeAppStart, hex, mcuMemory } from '../../firmware/mcu-memory.js';
import { formatBytes, formatGB } from '../../util/size.js';
import { action } from '../action.js';
import { addCommonOptions, boardsFileOf, parseCommon, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';

const busText = (b: Board): string => (b.bootloaderBus.value === 'unknown' ? '?' : b.bootloaderBus.value.toUpperCase());
const fileText = (b: Board): string => (b.folder.value ? `${b.folder.value}/` : '') + b.firmwareName.value;
/** How Klipper's flash-sdcard checks the result on this board. */
const verifyText = (b: Board): string => (!b.klipper ? '-' : b.klipper.skipVerify ? 'power-cycle' : 'verify');

function summary(b: Board) {
  return {
    name: b.name,
    aliases: b.aliases,
    vendor: b.vendor,
    models: b.models,
    mcu: b.mcu,
    file: fileText(b),
    appStart: b.appStart.value,
    bus: b.bootloaderBus.value,
    verify: verifyText(b),
    klipperDefinition: b.klipper?.definition ?? (b.klipper ? b.name : null),
    ...(b.origin ? { origin: b.origin } : {}),
  };
}

const FACT_KEYS = ['appStart', 'flashBytes', 'bootloaderBus', 'folder', 'firmwareName', 'uniqueName', 'caseSensitive', 'readsLongNames', 'afterFlash', 'card', 'conversion', 'bootloaderImage'] as const;

/** Every source key the board's facts cite, resolved (docs/sources.md has the same list). */
function sourcesOf(b: Board): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const k of FACT_KEYS) for (const s of (b[k] as Sourced<unknown> | undefined)?.sources ?? []) out[s] = resolveSource(s);
  return out;
}

function factLine(out: Output, label: string, f: Sourced<unknown> | undefined, show: (v: never) => string = (v) => String(v)): void {
  if (!f) return;
  const src = f.sources.length ? f.sources.join(', ') : 'no source';
  out.line(`  ${label.padEnd(20)} ${show(f.value as never)}`);
  out.line(`  ${''.padEnd(20)} ${f.confidence} [${src}]${f.note ? ` ${f.note}` : ''}`);
}

function showBoard(out: Output, b: Board): void {
  const family = mcuMemory(b.mcu)?.family;
  out.line(`${b.name} — ${b.vendor}${b.origin ? `  (from ${b.origin})` : ''}`);
  if (b.aliases.length) out.line(`  aliases: ${b.aliases.join(', ')}`);
  if (b.models.length) out.line(`  models:  ${b.models.join('; ')}`);
  out.line(`  MCU:     ${b.mcu}`);
  factLine(out, 'application start', b.appStart, (v: number[]) => (v.length ? v.map((a) => `${hex(a)} (${describeAppStart(a, family)})`).join(' or ') : 'unknown'));
  factLine(out, 'flash size', b.flashBytes, (v: number) => formatBytes(v));
  factLine(out, 'bootloader reads SD', b.bootloaderBus, (v: string) => (v === 'unknown' ? 'unknown' : `over ${v.toUpperCase()}`));
  factLine(out, 'folder on card', b.folder, (v: string) => (v ? `${v}/` : '(root)'));
  factLine(out, 'file name', b.firmwareName, (v: string) => (v === '*.bin' ? 'any name ending .bin' : v));
  factLine(out, 'new name each time', b.uniqueName, (v: boolean) => (v ? 'yes' : 'no'));
  factLine(out, 'case-sensitive', b.caseSensitive, (v: boolean | string) => (v === 'unknown' ? 'unknown' : v ? 'yes' : 'no'));
  factLine(out, 'reads long names', b.readsLongNames, (v: boolean | string) => (v === 'unknown' ? 'unknown' : v ? 'yes' : 'no (8.3 only)'));
  factLine(out, 'after flashing', b.afterFlash, (v: string) => (v === 'left' ? 'file left as is' : v === 'deleted' ? 'file deleted' : `renamed to ${v}`));
  factLine(out, 'card', b.card, (c: Board['card']['value']) =>
    [
      c.fileSystems.join('/'),
      c.gpt === false ? 'MBR (no GPT)' : '',
      c.superfloppy ? 'or no partition table' : '',
      c.maxCardBytes ? `cards up to ${formatGB(c.maxCardBytes)} as sold` : '',
      c.maxClusterBytes ? `clusters up to ${formatBytes(c.maxClusterBytes)}` : '',
    ]
      .filter(Boolean)
      .join(', '),
  );
  factLine(out, 'conversion', b.conversion);
  factLine(out, 'stock bootloader', b.bootloaderImage, (v: NonNullable<Board['bootloaderImage']>['value']) => `${v.repository ? `${v.repository}: ${v.path}` : v.url}${v.address === null ? '' : ` at ${hex(v.address)}`}`);
  const k = b.klipper;
  if (k) {
    const bus = k.bus.kind === 'swspi' ? `software SPI miso ${k.bus.miso} mosi ${k.bus.mosi} sclk ${k.bus.sclk}` : `${k.bus.kind === 'sdio' ? 'SDIO' : 'SPI'} bus ${k.bus.bus}`;
    out.line(`  Klipper flash-sdcard (board_defs.py "${k.definition ?? b.name}"): mcu ${k.mcu}, ${bus}${k.csPin ? `, CS ${k.csPin}` : ''}`);
    out.line(`  ${''.padEnd(20)} writes ${k.firmwarePath}, expects ${k.currentFirmwarePath}${k.skipVerify ? ', skips verification (power-cycle after flashing)' : ', verifies'}${k.requiresUniqueFwName ? ', unique file name' : ''}${k.conversion ? `, conversion ${k.conversion}` : ''}`);
  } else {
    out.line('  Klipper flash-sdcard: no definition (prepare the card on a PC)');
  }
  for (const n of b.notes ?? []) out.line(`  note: ${n}`);
  out.line('  sources:');
  for (const [k, text] of Object.entries(sourcesOf(b))) out.line(`    ${k}: ${text ?? '(not resolved)'}`);
}

interface BoardsOptions {
  query: string;
  common: CommonOptions;
}

const parse = ([words]: [string[]], raw: RawOptions): BoardsOptions => ({ query: words.join(' ').trim(), common: parseCommon(raw) });

async function run(o: BoardsOptions, out: Output): Promise<void> {
  const { loadCatalog } = await import('../../boards/catalog.js');
  const catalog = loadCatalog(boardsFileOf(o.common));
  const q = o.query;
  const exact = q ? catalog.find(q) : undefined;
  if (exact) {
    if (out.json) out.result({ ok: true, board: exact, sources: sourcesOf(exact) });
    else showBoard(out, exact);
    return;
  }
  const found = catalog.search(q);
  if (q && found.length === 0) {
    const close = catalog.suggest(q);
    throw new UsageError('unknown-board', `no board matches "${q}"`, {
      hint: close.length ? `Did you mean: ${close.join(', ')}? \`fwcard boards\` lists them all.` : '`fwcard boards` lists the boards fwcard knows; add yours with --boards-file.',
      details: { query: q, suggestions: close },
    });
  }
  if (out.json) out.result({ ok: true, query: q || null, count: found.length, boards: found.map(summary) });
  else showTable(out, found);
}

function showTable(out: Output, found: Board[]): void {
  const rows = found.map((b) => [b.name, b.vendor, b.mcu, fileText(b), busText(b), verifyText(b)]);
  const head = ['BOARD', 'VENDOR', 'MCU', 'FILE', 'BUS', 'VERIFY'];
  const widths = head.map((h, i) => Math.min(i === 1 ? 24 : 36, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const cell = (c: string, w: number) => (c.length > w ? c.slice(0, w - 1) + '…' : c.padEnd(w));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : cell(c, widths[i]!))).join('  ');
  out.line(fmt(head));
  for (const r of rows) out.line(fmt(r));
  out.line();
  out.line(`${found.length} board${found.length === 1 ? '' : 's'}. \`fwcard boards <name>\` shows every fact with its source.`);
}

export function register(program: Command): void {
  const cmd = program
    .command('boards')
    .argument('[query...]', 'a board name for its details, or words to search names, aliases, vendors, models and MCUs')
    .description('List the boards fwcard knows, or show one board with every fact, its source and confidence.');
  addCommonOptions(cmd, { boardsFile: 'add or override boards from a JSON file ({ "boards": [ … ] })', json: true })
    .addHelpText(
      'after',
      `
Examples:
  fwcard boards                       list every board
  fwcard boards octopus               boards matching "octopus"
  fwcard boards btt-octopus-f446-v1   one board, every fact with its source
  fwcard boards --boards-file my.json --json

Boards file: { "boards": [ { "name": "my-board", "mcu": "stm32f446xx", "appStart": "0x08008000",
  "firmwareName": "firmware.bin", "klipper": { "mcu": "stm32f446xx", "spi_bus": "spi1", "cs_pin": "PA4" } } ] }
  An entry named like a known board (or with "extends": "<board>") overrides only the facts it gives.
  Also read without --boards-file: $FWCARD_BOARDS or ~/.config/fwcard/boards.json.`,
    )
    .action(action(parse, run));
}
