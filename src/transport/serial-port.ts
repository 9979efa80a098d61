import { DeviceError, IoError, type FwcardError } from '../errors.js';
import { TransportEvents, type Transport } from './transport.js';

export interface SerialPortOptions {
  path: string;
  /** UART baud rate; USB CDC ports ignore it. Klipper's default is 250000. */
  baudRate?: number;
}

/** Just the parts of serialport's SerialPort class we use (loaded lazily). */
interface SerialPortLike {
  open(cb: (err: Error | null) => void): void;
  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean;
  drain(cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
  on(ev: 'data', l: (b: Buffer) => void): void;
  on(ev: 'close', l: (err?: Error & { disconnected?: boolean }) => void): void;
  on(ev: 'error', l: (err: Error) => void): void;
  readonly isOpen: boolean;
}

const BUSY_HINT =
  'Another program holds the port, usually the Klipper service: stop it first (`sudo service klipper stop`), ' +
  'or OctoPrint/a terminal program, then try again.';

/**
 * Turn serialport's open error (its text carries strerror) into a typed error naming the
 * cause. serialport opens with flock(LOCK_EX|LOCK_NB), the same lock Klipper's host takes
 * (pyserial exclusive=True), so a running Klipper shows up as "Cannot lock port".
 */
export function classifyOpenError(path: string, err: Error): FwcardError {
  const msg = err.message ?? String(err);
  const details = { path, reason: msg };
  if (/No such file or directory|ENOENT/i.test(msg)) {
    return new IoError('no-such-device', `${path}: no such serial device`, {
      hint: 'Check the path; USB boards appear as /dev/serial/by-id/usb-Klipper_… (ls /dev/serial/by-id/). A board that is resetting may take a few seconds to come back.',
      details,
      cause: err,
    });
  }
  if (/Permission denied|EACCES|EPERM/i.test(msg)) {
    return new IoError('permission-denied', `${path}: permission denied`, {
      hint: 'Add your user to the `dialout` group (sudo usermod -aG dialout $USER, then log in again) or run with sudo.',
      details,
      cause: err,
    });
  }
  if (/Cannot lock port|Resource temporarily unavailable|Device or resource busy|EBUSY|EAGAIN/i.test(msg)) {
    return new DeviceError('port-busy', `${path} is busy: another program has it open`, { hint: BUSY_HINT, details, cause: err });
  }
  if (/Not a typewriter|Inappropriate ioctl|ENOTTY/i.test(msg)) {
    return new IoError('not-a-serial-port', `${path} is not a serial port`, {
      hint: 'Give the serial device of the board (e.g. /dev/ttyACM0 or /dev/serial/by-id/…), not a file or disk.',
      details,
      cause: err,
    });
  }
  return new IoError('serial-open-failed', `${path}: could not open serial port: ${msg}`, {
    hint: 'Check the cable and that the board is powered.',
    details,
    cause: err,
  });
}

/** A real serial port (USB CDC or UART) through the `serialport` package. */
export class SerialTransport implements Transport {
  private readonly events = new TransportEvents();
  private port: SerialPortLike | undefined;
  private closing = false;

  constructor(readonly opts: SerialPortOptions) {}

  get name(): string {
    return this.opts.path;
  }

  get isOpen(): boolean {
    return !!this.port?.isOpen;
  }

  async open(): Promise<void> {
    if (this.port) throw new DeviceError('already-open', `${this.name} is already open`);
    let SerialPort: new (o: Record<string, unknown>) => SerialPortLike;
    try {
      // Loaded here, not at import time: its native binding must not break commands that
      // never touch a port, and a load failure becomes a typed error.
      ({ SerialPort } = (await import('serialport')) as unknown as { SerialPort: typeof SerialPort });
    } catch (e) {
      throw new IoError('serial-unavailable', `the serialport module could not be loaded: ${(e as Error).message}`, {
        hint: 'Reinstall fwcard on this machine (`npm install`) so the native serial binding matches this Node version.',
        cause: e,
      });
    }
    // hupcl off: dropping DTR on close would reset Arduino-style boards (Klipper clears it too).
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate ?? 250000, autoOpen: false, lock: true, hupcl: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(classifyOpenError(this.opts.path, err)) : resolve())));
    this.port = port;
    this.closing = false;
    port.on('data', (b) => this.events.emitData(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    port.on('error', () => {
      /* reported through 'close' */
    });
    port.on('close', (err) => {
      this.port = undefined;
      if (this.closing) return this.events.emitClose(undefined);
      this.events.emitClose(
        new DeviceError('disconnected', `${this.opts.path} disconnected`, {
          hint: 'The board went away (reset, USB cable, power). Wait for it to come back and try again.',
          cause: err,
        }),
      );
    });
  }

  async write(data: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port) throw new DeviceError('not-open', `${this.name} is not open`);
    await new Promise<void>((resolve, reject) =>
      port.write(Buffer.from(data), (err) =>
        err ? reject(new DeviceError('write-failed', `${this.name}: write failed: ${err.message}`, { cause: err })) : resolve(),
      ),
    );
  }

  async close(): Promise<void> {
    const port = this.port;
    if (!port) return;
    this.closing = true;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  onData(l: (chunk: Uint8Array) => void): () => void {
    return this.events.onData(l);
  }
  onClose(l: (cause?: Error) => void): () => void {
    return this.events.onClose(l);
  }
}
