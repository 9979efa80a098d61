/**
 * Stock bootloader images the vendors publish in their board repositories (sources, resolved in
 * ../sources.ts and docs/sources.md: B-OCT-BL, B-M8P, F-SP, F-S6, F-CH, MKS-N1, MKS-N3, MKS-E3). Each is written at the start of
 * flash; a .hex carries that address itself.
 */
import type { BootloaderImage } from '../types.js';

/** GitHub serves a file of the default branch at /raw/HEAD/<path>. */
export function githubImage(repository: string, path: string, address = 0x08000000): BootloaderImage {
  return {
    url: `https://github.com/${repository}/raw/HEAD/${path.split('/').map(encodeURIComponent).join('/')}`,
    repository,
    path,
    address,
    format: path.toLowerCase().endsWith('.hex') ? 'hex' : 'bin',
  };
}

const OCTOPUS = 'bigtreetech/BIGTREETECH-OCTOPUS-V1.0';
const OCTOPUS_DIR = 'Firmware/DFU Update bootloader/bootloader';

export const IMAGES = {
  octopusF407: githubImage(OCTOPUS, `${OCTOPUS_DIR}/OctoPus-F407-bootloader-32KB.hex`),
  octopusF429: githubImage(OCTOPUS, `${OCTOPUS_DIR}/Octopus-F429-bootloader-32KB(Flash 1MB).hex`),
  octopusF446: githubImage(OCTOPUS, `${OCTOPUS_DIR}/OctoPus-F446-bootloader-32KB.hex`),
  octopusH723: githubImage(OCTOPUS, `${OCTOPUS_DIR}/Octopus-H723-bootloader-128KB.hex`),
  mantaM8pV1: githubImage('bigtreetech/Manta-M8P', 'V1.0_V1.1/Firmware/M8P_bootloader.bin'),
  mantaM8pV2: githubImage('bigtreetech/Manta-M8P', 'V2.0/Firmware/M8P_V2_H723_bootloader.bin'),
  spider: githubImage('FYSETC/FYSETC-SPIDER', 'bootloader/Bootloader_FYSETC_SPIDER.hex'),
  cheetahV2: githubImage('FYSETC/FYSETC-Cheetah-v2', 'bootloader/FYSETC-BOOTLOADER-CHEETAH_V2.hex'),
  robinNano35: githubImage('makerbase-mks/MKS-Robin-Nano-V1.X', 'Bootloader/Robin_nano35_boot_200608.hex'),
  robinNanoV13: githubImage('makerbase-mks/MKS-Robin-Nano-V1.X', 'Bootloader/Robin_nano35_v13_f4_boot_210615.hex'),
  robinNanoV3: githubImage('makerbase-mks/MKS-Robin-Nano-V3.X', 'bootloader/Beep/nano_v3_bootloader.bin'),
  robinE3: githubImage('makerbase-mks/MKS-Robin-E3-E3D', 'firmware/Bootloader/MKS Robin E3_E3D bootloader NO boot and beeper.hex'),
} as const;
