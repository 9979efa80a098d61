/** The simulated Klipper board: tests, `npm run bench` and `fwcard simulate` start it here. */
export { startSimulator, Simulator, SimHostTransport, boardWiring, boardBootloader, type SimulatorOptions, type SimLinkSpec, type BootEvent } from './simulator.js';
export { servePty, PtyServer, type PtyServerOptions } from './pty.js';
export { SimMcu, type SimFirmware, type SimMcuOptions, type SimMcuStats } from './mcu.js';
export { buildSimDictionary, compressDictionary, mcuProfile, type McuProfile } from './mcu-profile.js';
export { runBootloader, findEmbeddedDictionary, fatVolumeDevice, type BootloaderSpec, type BootOutcome } from './bootloader.js';
export { LinkModel, type LinkFaults, type LinkModelOptions } from './link.js';
export type { CardWiring } from './card-wiring.js';
