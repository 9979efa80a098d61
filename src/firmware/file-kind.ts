/** Recognise files that are not firmware at all, so the user hears what they gave us (ELF and Intel HEX: containers.ts). */

export interface OtherFile {
  id: string;
  format: string;
  message: string;
  hint: string;
}

const startsWith = (b: Uint8Array, sig: number[]) => sig.every((x, i) => b[i] === x);

function mostlyText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  const head = b.subarray(0, n);
  if (head.includes(0)) return false;
  // Valid UTF-8 (a cut character at the end aside) with few control characters.
  const text = new TextDecoder('utf-8').decode(head);
  let bad = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) bad++;
  }
  return bad <= Math.max(1, text.length / 100);
}

/**
 * Klipper's out/klipper.dict: the build's data dictionary as JSON (the same JSON the firmware
 * carries compressed, K-BC). Not firmware, but the file `flash-sdcard -d` compares with what the
 * board reports after flashing, so say that rather than "a text file".
 */
function klipperDictionaryFile(b: Uint8Array, head: string): OtherFile | null {
  if (!head.startsWith('{') || b.length > 4 * 1024 * 1024) return null;
  let d: unknown;
  try {
    d = JSON.parse(Buffer.from(b).toString('utf8'));
  } catch {
    return null;
  }
  const o = d as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || typeof o.commands !== 'object' || typeof o.responses !== 'object' || typeof o.config !== 'object') return null;
  const version = typeof o.version === 'string' ? o.version : null;
  const mcu = typeof (o.config as Record<string, unknown>)?.MCU === 'string' ? ((o.config as Record<string, unknown>).MCU as string) : null;
  const what = [version ? `Klipper ${version}` : 'a Klipper build', mcu ? `for ${mcu}` : ''].filter(Boolean).join(' ');
  return {
    id: 'klipper-dictionary',
    format: 'Klipper data dictionary',
    message: `this is a Klipper data dictionary (out/klipper.dict) of ${what}, not firmware`,
    hint: 'Flash the firmware (out/klipper.bin, from the same build); give this file to `fwcard flash-sdcard -d klipper.dict …` to verify the board runs that version after flashing.',
  };
}

/** A non-image file we recognise, or null when the bytes may be a firmware image. */
export function recogniseOtherFile(b: Uint8Array): OtherFile | null {
  if (b.length === 0) return { id: 'empty-file', format: 'empty file', message: 'the file is empty (0 bytes)', hint: 'The build or the download did not finish; rebuild with `make` and use out/klipper.bin.' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { id: 'not-firmware', format: 'PNG image', message: 'this is a PNG image, not firmware', hint: 'Pick the firmware .bin file (Klipper: out/klipper.bin).' };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { id: 'not-firmware', format: 'JPEG image', message: 'this is a JPEG image, not firmware', hint: 'Pick the firmware .bin file (Klipper: out/klipper.bin).' };
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04])) return { id: 'archive', format: 'ZIP archive', message: 'this is a ZIP archive', hint: 'Unpack it and pick the firmware .bin inside.' };
  if (startsWith(b, [0x1f, 0x8b])) return { id: 'archive', format: 'gzip archive', message: 'this is a gzip-compressed file', hint: 'Unpack it and pick the firmware .bin inside.' };
  if (startsWith(b, [0x55, 0x46, 0x32, 0x0a])) return { id: 'uf2-not-bin', format: 'UF2 file', message: 'this is a UF2 file (for RP2040 drag-and-drop), not a raw .bin for an SD bootloader', hint: 'Use the .bin build of the firmware.' };
  if (mostlyText(b)) {
    const head = Buffer.from(b.subarray(0, 256)).toString('utf8').trimStart();
    const dict = klipperDictionaryFile(b, head);
    if (dict) return dict;
    if (/^<(!doctype|html)/i.test(head)) return { id: 'not-firmware', format: 'HTML page', message: 'this is an HTML page, not firmware (a download link saved the web page?)', hint: 'Download the raw .bin file (on GitHub: the "Raw" or release-asset link).' };
    return { id: 'not-firmware', format: 'text file', message: 'this is a text file, not firmware', hint: 'Pick the firmware .bin file (Klipper: out/klipper.bin), not a config or log.' };
  }
  return null;
}
