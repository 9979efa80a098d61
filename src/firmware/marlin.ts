/**
 * Marlin builds carry their version in plain text: "Marlin 2.1.2.1" and the M115 reply
 * "FIRMWARE_NAME:Marlin <version> (<date>) SOURCE_CODE_URL:… MACHINE_TYPE:<name> …".
 */
import type { MarlinInfo } from './report.js';

export function findMarlin(bytes: Uint8Array): MarlinInfo | null {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const m115 = /FIRMWARE_NAME:Marlin[ _]([^\s\0()]+)(?: \(([^)\0]{1,40})\))?/.exec(text);
  const machine = /MACHINE_TYPE:([^\0]{1,60}?)(?= EXTRUDER_COUNT| KINEMATICS| UUID|\0)/.exec(text);
  if (m115) return { version: m115[1]!, machine: machine?.[1]?.trim() || null, built: m115[2] ?? null };
  const plain = /\0Marlin[ _](\d+\.\d+(?:\.\d+)*(?:[-.][A-Za-z0-9]+)*)\0/.exec(text);
  if (plain) return { version: plain[1]!, machine: machine?.[1]?.trim() || null, built: null };
  return null;
}
