import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import { doctor } from '../../src/flows/doctor.js';
import { boardWords } from '../../src/flows/doctor/power-up.js';
import { hasRomUsbDfu, recoveryCommands, recoveryPlan } from '../../src/flows/doctor/recovery.js';

const catalog = loadCatalog({ noUserConfig: true });
// doctor() reads the user's boards file like the CLI does: keep a developer's own out.
const dir = mkdtempSync(join(tmpdir(), 'fwcard-doctor-catalog-'));
process.env.FWCARD_BOARDS = join(dir, 'none.json');
writeFileSync(process.env.FWCARD_BOARDS, '{ "boards": [] }');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('doctor over the whole catalog', () => {
  it('every board gets a plan: build, prepare, power-up and restore steps, with the catalog\'s facts in them', async () => {
    for (const b of catalog.all()) {
      const r = await doctor({ board: b.name });
      expect(r.steps.map((s) => s.id), b.name).toEqual(['build-firmware', 'prepare-card', 'power-up', 'usb-scan', 'restore-bootloader']);
      expect(r.ok).toBe(true);
      const power = r.powerUp.join('\n');
      if (b.bootloaderBus.value === 'sdio') expect(power, b.name).toMatch(/reads the card over SDIO/);
      if (b.bootloaderBus.value === 'spi') expect(power, b.name).toMatch(/reads the card over SPI/);
      if (b.uniqueName.value) expect(power, b.name).toMatch(/new name/);
      const after = b.afterFlash.value;
      if (after !== 'left' && after !== 'deleted') expect(power, b.name).toContain(`renames the file to ${after}`);
      const restore = r.steps.at(-1)!;
      if ((r.recovery.tool === 'dfu-util' || r.recovery.tool === 'st-flash') && r.recovery.appStart !== null) expect(restore.commands.join('\n'), b.name).toContain((r.recovery.appStart >>> 0).toString(16).toUpperCase().padStart(8, '0'));
    }
  });

  it('ROM USB DFU per ST AN2606: the F4/G0B/H7 parts have it, the F103 and the small G0s do not', () => {
    for (const m of ['stm32f401xc', 'stm32f407xx', 'stm32f429xx', 'stm32f446xx', 'stm32g0b1xx', 'stm32g0b0xx', 'stm32h723xx', 'stm32h743xx', 'stm32f072xb', 'stm32f042x6']) expect(hasRomUsbDfu(m), m).toBe(true);
    for (const m of ['stm32f103xe', 'stm32f031x6', 'stm32g070xx', 'stm32g071xx', 'lpc1768', 'hc32f460']) expect(hasRomUsbDfu(m), m).toBe(false);
  });

  it('the restore commands put the bootloader at the flash base and Klipper at the application address', () => {
    const oct = recoveryPlan(catalog.get('btt-octopus-f446-v1'));
    expect(recoveryCommands(oct, 'out/klipper.bin', 'bl.bin')).toEqual(['dfu-util -l', 'dfu-util -a 0 -d 0483:df11 -s 0x08000000 -D bl.bin', 'dfu-util -a 0 -d 0483:df11 -s 0x08008000:leave -D out/klipper.bin']);
    const hc = recoveryPlan(catalog.get('creality-ender2-pro-hc32'));
    expect(hc.tool).toBeNull();
    expect(recoveryCommands(hc, 'out/klipper.bin')).toEqual([]);
  });

  it('names boards the way owners do', () => {
    expect(boardWords(catalog.get('btt-octopus-f446-v1'))).toBe('Octopus');
    expect(boardWords(catalog.get('btt-skr-pro'))).toBe('SKR Pro');
    expect(boardWords({ ...catalog.get('btt-skr-pro'), models: [] })).toBe('btt-skr-pro');
  });
});
