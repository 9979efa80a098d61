/**
 * A board's name as the user typed it, with the catalog's name in parentheses when they differ
 * (an alias: "btt-skr-turbo-v1.4 (generic-lpc1769)"), so output speaks in the user's words and
 * still says which entry judged. Case alone is not a difference.
 */
export function boardLabel(typed: string | null | undefined, name: string): string {
  return typed && typed.toLowerCase() !== name.toLowerCase() ? `${typed} (${name})` : name;
}
