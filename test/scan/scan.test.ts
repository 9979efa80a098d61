import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dfuFlashLayout } from '../../src/usb/classify.js';
import { removeDir, runCli, tempDir } from '../helpers/judges.js';
import { SysfsTree } from './sysfs-tree.js';

// fwcard scan over device trees laid out as Linux lays out /sys and /dev (FWCARD_SYSFS_ROOT,
// FWCARD_DEV_ROOT): the forum story's states of an Octopus (ROM DFU, Klipper, Katapult), a
// Creality board behind a CH340, a card reader, and a machine where nothing shows up.
const dir = tempDir('fwcard-scan-');
afterAll(() => removeDir(dir));
let n = 0;
const tree = (): SysfsTree => new SysfsTree(join(dir, `t${n++}`));

function scan(t: SysfsTree, json = true): { status: number | null; doc: any; stdout: string } {
  const r = runCli(['scan', ...(json ? ['--json'] : [])], { env: t.env });
  return { status: r.status, doc: json ? JSON.parse(r.stdout) : null, stdout: r.stdout };
}

const F446_DFU = '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg';

function workshop(): SysfsTree {
  return tree()
    .usb('1-1', { vid: '1a40', pid: '0101', product: 'USB 2.0 Hub', deviceClass: '09', interfaces: [{ cls: '09' }] })
    .usb('1-1.1', { vid: '0483', pid: 'df11', manufacturer: 'STMicroelectronics', product: 'STM32  BOOTLOADER', serial: '3276345E3034', interfaces: [{ cls: 'fe', label: F446_DFU }, { cls: 'fe', label: '@Option Bytes  /0x1FFFC000/01*016 e' }] })
    .usb('1-1.2', { vid: '1d50', pid: '614e', manufacturer: 'Klipper', product: 'stm32f446xx', serial: '2C003F001351303530323539', deviceClass: '02', interfaces: [{ cls: '02' }, { cls: '0a' }] })
    .tty('ttyACM0', { under: '1-1.2:1.0', driver: 'cdc_acm', byId: 'usb-Klipper_stm32f446xx_2C003F001351303530323539-if00' })
    .usb('1-1.3', { vid: '1d50', pid: '6177', manufacturer: 'katapult', product: 'stm32h723xx', serial: '380009001151313531383332', deviceClass: '02', interfaces: [{ cls: '02' }, { cls: '0a' }] })
    .tty('ttyACM1', { under: '1-1.3:1.0', driver: 'cdc_acm', byId: 'usb-katapult_stm32h723xx_380009001151313531383332-if00' })
    .usb('1-1.4', { vid: '1a86', pid: '7523', product: 'USB Serial', interfaces: [{ cls: 'ff' }] })
    .tty('ttyUSB0', { under: '1-1.4:1.0/ttyUSB0', driver: 'ch341-uart', byId: 'usb-1a86_USB_Serial-if00-port0' })
    .usb('2-1', { vid: '05e3', pid: '0749', manufacturer: 'Generic', product: 'USB3.0 Card Reader', serial: '000000001536', interfaces: [{ cls: '08' }] })
    .usb('1-2', { vid: '046d', pid: 'c52b', manufacturer: 'Logitech', product: 'USB Receiver', interfaces: [{ cls: '03' }] })
    .tty('ttyS0', { driver: 'serial8250', type: '4' })
    .tty('ttyS1', { driver: 'serial8250', type: '0' });
}

describe('fwcard scan', () => {
  it('classifies every device of a tree: ROM DFU with its chip, Klipper with its MCU and by-id name, Katapult, CH340, card reader', () => {
    const { status, doc } = scan(workshop());
    expect(status).toBe(0);
    expect(doc.available).toBe(true);
    const byKind = (k: string) => doc.devices.filter((d: any) => d.kind === k);
    // The hub is the bus, not a device; the 8250 ttyS1 of type 0 is no UART.
    expect(doc.devices.map((d: any) => d.kind)).toEqual(['rom-dfu', 'klipper', 'katapult', 'usb-uart', 'other', 'card-reader', 'uart']);
    expect(doc.boards).toBe(4);
    expect(doc.nothingFound).toEqual([]);
    const [dfu] = byKind('rom-dfu');
    expect(dfu.usb).toEqual({ path: '1-1.1', id: '0483:df11', manufacturer: 'STMicroelectronics', product: 'STM32  BOOTLOADER', serial: '3276345E3034' });
    expect(dfu.chip).toEqual({ family: 'STM32F2/F4', flashBytes: 512 * 1024, layout: F446_DFU });
    expect(dfu.meaning).toMatch(/ROM bootloader.*dfu-util.*Neither Klipper nor the SD-card bootloader is running/);
    expect(dfu.next.join('\n')).toMatch(/Invalid DFU suffix signature.*harmless/);
    expect(dfu.sources.join('\n')).toMatch(/flash_usb\.py/);
    const [k] = byKind('klipper');
    expect(k.mcu).toBe('stm32f446xx');
    expect(k.usb.serial).toBe('2C003F001351303530323539');
    expect(k.ports).toEqual(['/dev/ttyACM0']);
    expect(k.byId).toEqual(['/dev/serial/by-id/usb-Klipper_stm32f446xx_2C003F001351303530323539-if00']);
    expect(k.sources.join('\n')).toMatch(/usb_cdc\.c/);
    const [kat] = byKind('katapult');
    expect(kat.mcu).toBe('stm32h723xx');
    expect(kat.meaning).toMatch(/Klipper is not running/);
    const [ch] = byKind('usb-uart');
    expect(ch.title).toMatch(/CH340/);
    expect(ch.ports).toEqual(['/dev/ttyUSB0']);
    expect(ch.byId).toEqual(['/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0']);
    expect(ch.meaning).toMatch(/says nothing about the firmware/);
    expect(byKind('card-reader')[0].usb.id).toBe('05e3:0749');
    expect(byKind('uart')[0]).toMatchObject({ usb: null, ports: ['/dev/ttyS0'] });
  });

  it('the text output: every line within 80 columns, the states and next steps in words', () => {
    const { status, stdout } = scan(workshop(), false);
    expect(status).toBe(0);
    // Issue 16's rule: no line over 80 columns unless it is one command to paste, kept whole.
    for (const line of stdout.split('\n')) if (line.length > 80) expect(line.trim(), line).toMatch(/^`[^`]+`[.,;]?$/);
    expect(stdout).toMatch(/0483:df11 STM32 ROM DFU loader \(STM32F2\/F4, 512 KiB flash\)/);
    expect(stdout).toMatch(/1d50:614e Klipper \(stm32f446xx\)/);
    expect(stdout).toContain('/dev/serial/by-id/usb-Klipper_stm32f446xx_2C003F001351303530323539-if00');
    expect(stdout).toMatch(/Other USB devices:\n {2}046d:c52b Logitech USB Receiver/);
    expect(stdout).not.toMatch(/No printer board/);
  });

  it('nothing but a card reader: no board, and what to check (power, a data cable, BOOT0)', () => {
    const t = tree().usb('2-1', { vid: '05e3', pid: '0749', product: 'USB3.0 Card Reader', interfaces: [{ cls: '08' }] });
    const { doc } = scan(t);
    expect(doc.boards).toBe(0);
    expect(doc.nothingFound.join('\n')).toMatch(/Power/);
    expect(doc.nothingFound.join('\n')).toMatch(/carry power only/);
    expect(doc.nothingFound.join('\n')).toMatch(/BOOT0/);
    const text = scan(t, false).stdout;
    expect(text).toMatch(/No printer board on USB/);
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('no sysfs at all (not Linux): available false, still a document', () => {
    const t = tree();
    const r = runCli(['scan', '--json'], { env: { FWCARD_SYSFS_ROOT: join(t.root, 'absent'), FWCARD_DEV_ROOT: t.dev } });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, available: false, devices: [], boards: 0 });
  });

  it('the old CanBoot on Klipper\'s id, a GD32 in DFU, Klipper as USB-CAN bridge, an H7 loader by its layout', () => {
    const t = tree()
      .usb('1-1', { vid: '1d50', pid: '614e', manufacturer: 'CanBoot', product: 'stm32f103xe', interfaces: [{ cls: '02' }] })
      .usb('1-2', { vid: '28e9', pid: '0189', manufacturer: 'GigaDevice', product: 'GD32 DFU Bootloader', interfaces: [{ cls: 'fe', label: '@Internal Flash  /0x08000000/512*002Ka' }] })
      .usb('1-3', { vid: '1d50', pid: '606f', manufacturer: 'Klipper', product: 'stm32g0b1xx', interfaces: [{ cls: 'ff' }] })
      .usb('1-4', { vid: '0483', pid: 'df11', product: 'DFU in FS Mode', serial: '200364500000', interfaces: [{ cls: 'fe', label: '@Internal Flash   /0x08000000/8*128Kg' }] });
    const { doc } = scan(t);
    expect(doc.devices.map((d: any) => [d.kind, d.mcu ?? d.chip?.family ?? null])).toEqual([
      ['katapult', 'stm32f103xe'],
      ['rom-dfu', 'GD32'],
      ['klipper-usb-can', null],
      ['rom-dfu', 'STM32H7'],
    ]);
    expect(doc.devices[1].chip.flashBytes).toBe(1024 * 1024);
    expect(doc.devices[3].chip.flashBytes).toBe(1024 * 1024);
  });

  it('reads DfuSe flash layouts', () => {
    expect(dfuFlashLayout(F446_DFU)).toEqual({ base: 0x08000000, bytes: 512 * 1024, sectorKib: [16, 64, 128] });
    expect(dfuFlashLayout('@Internal Flash  /0x08000000/256*02Kg')).toMatchObject({ bytes: 512 * 1024, sectorKib: [2] });
    expect(dfuFlashLayout('@Option Bytes  /0x1FFFC000/01*016 e')).toBeNull();
    expect(dfuFlashLayout(null)).toBeNull();
  });
});
