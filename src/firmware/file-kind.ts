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
    if (/^<(!doctype|html)/i.test(head)) return { id: 'not-firmware', format: 'HTML page', message: 'this is an HTML page, not firmware (a download link saved the web page?)', hint: 'Download the raw .bin file (on GitHub: the "Raw" or release-asset link).' };
    return { id: 'not-firmware', format: 'text file', message: 'this is a text file, not firmware', hint: 'Pick the firmware .bin file (Klipper: out/klipper.bin), not a config or log.' };
  }
  return null;
}
