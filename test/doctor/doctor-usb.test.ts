import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, runCli, tempDir } from '../helpers/judges.js';
import { SysfsTree } from '../scan/sysfs-tree.js';

// doctor looks at USB the way `fwcard scan` does (over a sysfs tree standing in for /sys): the
// forum story's board that is "not in /dev/serial/by-id" — in ROM DFU, not there at all, or
// running Klipper under a by-id name doctor then uses in its flash-sdcard commands.
const dir = tempDir('fwcard-doctor-usb-');
afterAll(() => removeDir(dir));
const NO_USER_BOARDS = join(dir, 'none.json');
writeFileSync(NO_USER_BOARDS, '{ "boards": [] }');
let n = 0;
const tree = (): SysfsTree => new SysfsTree(join(dir, `t${n++}`));

interface Step {
  id: string;
  kind: string;
  title: string;
  details: string[];
  commands: string[];
}

function doctor(t: SysfsTree, args: string[]): { status: number | null; doc: any; usb: Step; steps: Step[] } {
  const r = runCli(['doctor', '--json', '--board', 'btt-octopus-f446-v1', ...args], { env: { FWCARD_BOARDS: NO_USER_BOARDS, ...t.env } });
  const doc = JSON.parse(r.stdout);
  return { status: r.status, doc, usb: doc.steps.find((s: Step) => s.id === 'usb-scan'), steps: doc.steps };
}

const KLIPPER_ID = 'usb-Klipper_stm32f446xx_2C003F001351303530323539-if00';
const klipper = (t: SysfsTree, mcu = 'stm32f446xx'): SysfsTree =>
  t
    .usb('1-1', { vid: '1d50', pid: '614e', manufacturer: 'Klipper', product: mcu, serial: '2C003F001351303530323539', interfaces: [{ cls: '02' }, { cls: '0a' }] })
    .tty('ttyACM0', { under: '1-1:1.0', driver: 'cdc_acm', byId: KLIPPER_ID.replace('stm32f446xx', mcu) });

describe('doctor and what is on USB', () => {
  it('nothing on USB (only a card reader): the usb-scan step says what to check, and the plan still exits 0', () => {
    const t = tree().usb('2-1', { vid: '05e3', pid: '0749', product: 'Card Reader', interfaces: [{ cls: '08' }] });
    const { status, usb, doc } = doctor(t, []);
    expect(status).toBe(0);
    expect(usb.kind).toBe('do');
    expect(usb.title).toBe('No board on USB: what to check');
    const text = usb.details.join('\n');
    expect(text).toMatch(/Power/);
    expect(text).toMatch(/carry power only/);
    expect(text).toMatch(/BOOT0/);
    expect(usb.commands).toContain('fwcard scan');
    expect(doc.usb.boards).toBe(0);
  });

  it('the board in ROM DFU: named with its chip, the card is not read in that mode, and the restore step follows', () => {
    const t = tree().usb('1-1', { vid: '0483', pid: 'df11', manufacturer: 'STMicroelectronics', product: 'STM32  BOOTLOADER', serial: '3276345E3034', interfaces: [{ cls: 'fe', label: '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg' }] });
    const { usb, steps } = doctor(t, []);
    expect(usb.title).toBe('On USB now: STM32 ROM DFU loader');
    const text = usb.details.join('\n');
    expect(text).toMatch(/STM32F2\/F4/);
    expect(text).toMatch(/SD-card bootloader does not run/);
    expect(text).toMatch(/Invalid DFU suffix signature.*harmless/);
    expect(usb.commands).toEqual(['fwcard scan', 'dfu-util -l']);
    expect(steps.map((s) => s.id).slice(-2)).toEqual(['usb-scan', 'restore-bootloader']);
  });

  it('Klipper on the board\'s MCU: its by-id name replaces the placeholder in the flash-sdcard commands', () => {
    const { usb, steps } = doctor(klipper(tree()), []);
    expect(usb.title).toBe('On USB now: Klipper on a stm32f446xx');
    const power = steps.find((s) => s.id === 'power-up')!;
    expect(power.commands).toContain(`fwcard flash-sdcard /dev/serial/by-id/${KLIPPER_ID} btt-octopus-f446-v1`);
    expect(power.commands.join('\n')).not.toContain('<your-board>');
  });

  it('Klipper on another MCU: said so, and the placeholder stays', () => {
    const { usb, steps } = doctor(klipper(tree(), 'stm32f407xx'), []);
    expect(usb.details.join('\n')).toMatch(/not the btt-octopus-f446-v1's stm32f446xx/);
    expect(steps.find((s) => s.id === 'power-up')!.commands.join('\n')).toContain('/dev/serial/by-id/<your-board>');
  });

  it('--port that is not there: a fix step with what USB shows instead; --port that is there: what answers on it', () => {
    const t = tree().usb('1-1', { vid: '0483', pid: 'df11', product: 'STM32  BOOTLOADER', interfaces: [{ cls: 'fe', label: '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg' }] });
    const missing = doctor(t, ['--port', `/dev/serial/by-id/${KLIPPER_ID}`]);
    expect(missing.status).toBe(1);
    expect(missing.usb.kind).toBe('fix');
    expect(missing.usb.title).toBe(`The board is not found at /dev/serial/by-id/${KLIPPER_ID}`);
    expect(missing.usb.details.join('\n')).toMatch(/gone while the board is in DFU mode/);
    expect(missing.usb.details.join('\n')).toMatch(/STM32 ROM DFU loader/);
    const there = doctor(klipper(tree()), ['--port', `/dev/serial/by-id/${KLIPPER_ID}`]);
    expect(there.status).toBe(0);
    expect(there.usb.kind).toBe('do');
    expect(there.usb.title).toBe(`/dev/serial/by-id/${KLIPPER_ID}: Klipper on a stm32f446xx`);
  });
});
