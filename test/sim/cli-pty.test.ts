import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImageFile } from '../../src/disk/image-file.js';
import { FatVolume } from '../../src/fat/fat-volume.js';
import { writeFatVolume } from '../../src/fat/format.js';
import { planLayout } from '../../src/fat/layout.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { McuSession } from '../../src/klipper/session.js';
import { fatVolumeDevice } from '../../src/sim/bootloader.js';
import { SerialTransport } from '../../src/transport/serial-port.js';

// End to end through a real pseudo-terminal: `fwcard simulate` serves a board, `fwcard
// mcu-info` opens the pty with the serialport package like any serial device.
const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/fwcard.js');
const dir = mkdtempSync(join(tmpdir(), 'fwcard-pty-'));
const children: ChildProcess[] = [];

beforeAll(() => {
  const r = spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0 && !existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
}, 120000);

afterAll(async () => {
  for (const c of children) {
    // A child killed by a signal has exitCode null but signalCode set: it is already gone.
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

async function simulate(args: string[], path: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, [BIN, 'simulate', ...args, '--port-link', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  let out = '';
  c.stdout!.on('data', (b) => (out += b));
  c.stderr!.on('data', (b) => (out += b));
  const deadline = Date.now() + 10000;
  while (!out.includes('serial port:')) {
    if (c.exitCode !== null || Date.now() > deadline) throw new Error(`simulate did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return c;
}

function mcuInfo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'mcu-info', ...args], { encoding: 'utf8', timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('fwcard mcu-info against fwcard simulate through a pty', () => {
  it('identifies the STM32F446 of a BTT Octopus over a 250000 baud UART', async () => {
    const path = join(dir, 'octopus');
    await simulate(['--board', 'btt-octopus-f446-v1', '--link', 'uart:250000'], path);
    const r = mcuInfo([path, '-b', '250000', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, mcu: 'stm32f446xx', clockFreq: 180000000, isConfig: false, isShutdown: false, serialBaud: 250000, receiveWindow: 192 });
    expect(doc.version).toMatch(/^v0\./);
    // and again: the simulated MCU keeps its sequence number; a new host must resync
    const again = mcuInfo([path]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('stm32f446xx');
    expect(again.stdout).toContain('180 MHz');
  }, 40000);

  it('identifies the LPC1768 of a BTT SKR 1.3 over USB', async () => {
    const path = join(dir, 'skr13');
    await simulate(['--board', 'btt-skr-v1.3', '--link', 'usb'], path);
    const r = mcuInfo([path, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ mcu: 'lpc1768', clockFreq: 100000000, isConfig: false, isShutdown: false, serialBaud: null });
  }, 40000);

  it('gets through a lossy link (simulate --faults) by retransmitting', async () => {
    const path = join(dir, 'lossy');
    await simulate(['--board', 'generic-lpc1768', '--link', 'uart:250000', '--faults', 'drop=0.002,flip=0.001,seed=11'], path);
    const r = mcuInfo([path, '--json', '--timeout', '10000']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).mcu).toBe('lpc1768');
  }, 40000);

  it('shows why an MCU found shut down stopped', async () => {
    const path = join(dir, 'shut');
    await simulate(['--board', 'btt-octopus-f446-v1'], path);
    const s = new McuSession({ transport: new SerialTransport({ path }) });
    await s.connect();
    await s.send('allocate_oids count=1');
    await s.send('config_spi', { oid: 0, pin: 'PC11', cs_active_high: 0 });
    await s.send('spi_set_bus', { oid: 0, spi_bus: 'spi1', mode: 4, rate: 400000 }); // mode 4: "Invalid spi config"
    await s.close();
    const r = mcuInfo([path, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ isShutdown: true, shutdownReason: 'Invalid spi config' });
    const human = mcuInfo([path]);
    expect(human.stdout).toMatch(/shut down \(Invalid spi config\)/);
  }, 40000);

  it('names the cause when there is no such device', () => {
    const r = mcuInfo([join(dir, 'nothing-here'), '--json']);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('no-such-device');
  });

  it('says "port busy" when another program holds the port', async () => {
    const path = join(dir, 'busy');
    await simulate(['--board', 'generic-lpc1768'], path);
    // Hold the port with an exclusive lock, as the Klipper service does.
    const holder = spawn(process.execPath, ['-e', `const {SerialPort}=require('serialport');const p=new SerialPort({path:${JSON.stringify(path)},baudRate:250000,lock:true},()=>console.log('held'));setTimeout(()=>{},60000)`], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(holder);
    await new Promise<void>((r) => holder.stdout!.once('data', () => r()));
    const res = mcuInfo([path, '--json']);
    holder.kill();
    expect(res.status).toBe(2);
    const err = JSON.parse(res.stdout).error;
    expect(err.code).toBe('port-busy');
    expect(err.hint).toMatch(/service klipper stop/);
  }, 40000);

  it('reports a device speaking garbage as "not Klipper", and silence as "nothing answered"', async () => {
    const noisy = join(dir, 'noisy');
    const c = spawn('socat', [`pty,raw,echo=0,link=${noisy}`, 'SYSTEM:yes hello'], { stdio: 'ignore' });
    children.push(c);
    const silent = join(dir, 'silent');
    const s = spawn('socat', [`pty,raw,echo=0,link=${silent}`, 'SYSTEM:sleep 60'], { stdio: 'ignore' });
    children.push(s);
    for (let i = 0; i < 100 && !(existsSync(noisy) && existsSync(silent)); i++) await new Promise((r) => setTimeout(r, 50));
    const r1 = mcuInfo([noisy, '--json', '--timeout', '1500']);
    expect(JSON.parse(r1.stdout).error.code).toBe('not-klipper');
    const r2 = mcuInfo([silent, '--json', '--timeout', '1500']);
    expect(JSON.parse(r2.stdout).error.code).toBe('no-response');
    expect(JSON.parse(r2.stdout).error.hint).toMatch(/baud/);
  }, 40000);
});

describe('reset through the pty', () => {
  it('a USB board leaves (the port vanishes), flashes the card\'s firmware.bin and comes back with the new version', async () => {
    const img = join(dir, 'card.img');
    const dev = openImageFile(img, { size: 32 * 1024 * 1024 });
    writeFatVolume(dev, planLayout({ deviceSectors: dev.sectorCount }), { knownZero: true });
    const vol = await FatVolume.mount(fatVolumeDevice(dev));
    vol.writeFile('/firmware.bin', makeSyntheticFirmware({ mcu: 'lpc1768', klipperVersion: 'v0.13.0-5-gviapty' }).bytes);
    vol.unmount();
    await dev.close();
    const path = join(dir, 'skr-usb');
    await simulate(['--board', 'btt-skr-v1.3', '--link', 'usb', '--card', img, '--boot-ms', '400'], path);
    const session = new McuSession({ transport: new SerialTransport({ path }) });
    await session.connect();
    expect(session.dictionary.version).not.toBe('v0.13.0-5-gviapty');
    await session.reset();
    let vanished = false;
    for (let i = 0; i < 100 && !vanished; i++) {
      vanished = !existsSync(path);
      if (!vanished) await new Promise((r) => setTimeout(r, 10));
    }
    expect(vanished).toBe(true);
    for (let i = 0; i < 300 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
    const r = mcuInfo([path, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).version).toBe('v0.13.0-5-gviapty');
    const check = openImageFile(img, { readOnly: true });
    const v2 = await FatVolume.mount(fatVolumeDevice(check));
    expect(v2.list('/').map((e) => e.name.toUpperCase())).toEqual(['FIRMWARE.CUR']);
    v2.unmount();
    await check.close();
  }, 40000);
});
