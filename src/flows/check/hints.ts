import type { CheckRules } from './rules.js';

export interface HintContext {
  /** The card or image as the user named it. */
  target: string;
  rules: CheckRules;
  /** --firmware, when given. */
  firmwarePath: string | null;
}

const quote = (s: string): string => (/^[\w./@:+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The exact `fwcard prepare` command that fixes a card-level problem. Formatting options
 * follow the board's rules (FAT32-only boards, cluster limits); placeholders stand where the
 * user has to fill in (no --board, no --firmware).
 */
export function prepareCommand(ctx: HintContext, opts: { noFormat?: boolean } = {}): string {
  const parts = ['fwcard prepare', quote(ctx.target), '--board', ctx.rules.boardName ?? '<your-board>', '--firmware', ctx.firmwarePath ? quote(ctx.firmwarePath) : '<firmware.bin>'];
  if (opts.noFormat) parts.push('--no-format');
  else {
    const fs = ctx.rules.fileSystems;
    if (ctx.rules.board && fs.includes('FAT32') && !fs.includes('FAT16')) parts.push('--fs fat32');
    if (ctx.rules.maxClusterBytes.known && ctx.rules.maxClusterBytes.value < 32768) parts.push(`--cluster ${ctx.rules.maxClusterBytes.value}`);
  }
  return parts.join(' ');
}

/** `fwcard check <target> --board … --fix` */
export function fixCommand(ctx: HintContext): string {
  return ['fwcard check', quote(ctx.target), ...(ctx.rules.boardName ? ['--board', ctx.rules.boardName] : []), '--fix'].join(' ');
}

/** A hint for a problem only re-formatting fixes. */
export function reformatHint(ctx: HintContext, why = ''): string {
  return `${why ? why + ' ' : ''}Re-create the card (this erases it): \`${prepareCommand(ctx)}\``;
}
