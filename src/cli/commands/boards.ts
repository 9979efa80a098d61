import type { Command } from 'commander';
import { resolveSource } from '../../boards/sources.js';
import type { Board, Sourced } from '../../boards/types.js';
import { UsageError } from '../../errors.js';
import { describeAppStart, hex, mcuMemory } from '../../firmware/mcu-memory.js';
import { formatBytes, formatGB } from '../../util/size.js';
import { action } from '../action.js';
import { addCommonOptions, boardsFileOf, parseCommon, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { terminalWidth, wrap } from '../wrap.js';

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

/** Where a fact's value starts: after its 20-column label. */
const FACT = ' '.repeat(23);

function factLine(out: Output, label: string, f: Sourced<unknown> | undefined, show: (v: never) => string = (v) => String(v)): void {
  if (!f) return;
  const src = f.sources.length ? f.sources.join(', ') : 'no source';
  for (const l of wrap(show(f.value as never), { first: `  ${label.padEnd(20)} `, rest: FACT })) out.line(l);
  for (const l of wrap(`${f.confidence} [${src}]${f.note ? ` ${f.note}` : ''}`, { first: FACT })) out.line(l);
}

function showBoard(out: Output, b: Board): void {
  const family = mcuMemory(b.mcu)?.family;
  const say = (text: string, first: string, rest = ' '.repeat(first.length)): void => {
    for (const l of wrap(text, { first, rest })) out.line(l);
  };
  say(`${b.name} — ${b.vendor}${b.origin ? `  (from ${b.origin})` : ''}`, '', '  ');
  if (b.aliases.length) say(b.aliases.join(', '), '  aliases: ');
  if (b.models.length) say(b.models.join('; '), '  models:  ');
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
    say(`board_defs.py "${k.definition ?? b.name}": mcu ${k.mcu}, ${bus}${k.csPin ? `, CS ${k.csPin}` : ''}`, `  ${'Klipper flash-sdcard'.padEnd(20)} `, FACT);
    say(`writes ${k.firmwarePath}, expects ${k.currentFirmwarePath}${k.skipVerify ? ', skips verification (power-cycle after flashing)' : ', verifies'}${k.requiresUniqueFwName ? ', unique file name' : ''}${k.conversion ? `, conversion ${k.conversion}` : ''}`, FACT);
  } else {
    say('no definition (prepare the card on a PC)', `  ${'Klipper flash-sdcard'.padEnd(20)} `, FACT);
  }
  for (const n of b.notes ?? []) say(n, '  note: ');
  out.line('  sources:');
  for (const [k, text] of Object.entries(sourcesOf(b))) say(text ?? '(not resolved)', `    ${k}: `, '      ');
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

/**
 * The table, as wide as the terminal allows. Board names are never cut (they are what the user
 * types). In this order until a row fits: the vendor narrows (to 10 columns, cut with …), the
 * vendor column leaves, then verify; the file narrows (to 14); bus leaves, then file, then MCU.
 */
function showTable(out: Output, found: Board[]): void {
  const width = terminalWidth();
  const all = [
    { head: 'BOARD', cells: found.map((b) => b.name) },
    { head: 'VENDOR', cells: found.map((b) => b.vendor), min: 10, max: 24 },
    { head: 'MCU', cells: found.map((b) => b.mcu) },
    { head: 'FILE', cells: found.map(fileText), min: 14 },
    { head: 'BUS', cells: found.map(busText) },
    { head: 'VERIFY', cells: found.map(verifyText) },
  ].map((c) => ({ ...c, full: Math.min(c.max ?? Infinity, Math.max(c.head.length, ...c.cells.map((x) => x.length))), width: 0 }));
  const total = (cols: typeof all): number => cols.reduce((n, c) => n + c.width, 0) + 2 * (cols.length - 1);
  /** Give every column its full width, then narrow those with a minimum until the row fits. */
  const fit = (cols: typeof all): boolean => {
    for (const c of cols) c.width = c.full;
    const narrowable = (c: (typeof all)[number]): boolean => c.min !== undefined && (c.head !== 'FILE' || !cols.some((x) => x.head === 'VERIFY'));
    for (const c of cols) if (narrowable(c) && total(cols) > width) c.width = Math.max(c.min!, c.width - (total(cols) - width));
    return total(cols) <= width;
  };
  let cols = all;
  for (const drop of ['VENDOR', 'VERIFY', 'BUS', 'FILE', 'MCU']) {
    if (fit(cols)) break;
    cols = cols.filter((c) => c.head !== drop);
  }
  fit(cols);
  const cell = (c: string, w: number): string => (c.length > w ? c.slice(0, w - 1) + '…' : c.padEnd(w));
  const row = (texts: string[]): string => texts.map((t, i) => cell(t, cols[i]!.width)).join('  ').trimEnd();
  out.line(row(cols.map((c) => c.head)));
  found.forEach((_, r) => out.line(row(cols.map((c) => c.cells[r]!))));
  out.line();
  const left = all.filter((c) => !cols.includes(c)).map((c) => c.head);
  const tail = left.length ? ` ${left.join(', ')} left out at ${width} columns (a wider terminal or --json shows them).` : '';
  for (const l of wrap(`${found.length} board${found.length === 1 ? '' : 's'}. \`fwcard boards <name>\` shows every fact with its source.${tail}`, { first: '', width })) out.line(l);
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
