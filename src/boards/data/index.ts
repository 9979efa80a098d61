/** The built-in catalog, by vendor. */
import type { Board } from '../types.js';
import { ANYCUBIC_BOARDS } from './anycubic.js';
import { ARTILLERY_BOARDS } from './artillery.js';
import { BTT_BOARDS } from './btt.js';
import { CHITU_BOARDS } from './chitu-tronxy.js';
import { CREALITY_BOARDS } from './creality.js';
import { ELEGOO_BOARDS } from './elegoo.js';
import { FYSETC_BOARDS } from './fysetc.js';
import { LPC176X_BOARDS } from './lpc176x.js';
import { MELLOW_BOARDS } from './mellow.js';
import { MKS_BOARDS } from './mks.js';
import { OTHER_BOARDS } from './others.js';
import { QIDI_BOARDS } from './qidi.js';
import { SOVOL_BOARDS } from './sovol.js';

export const BUILTIN_BOARDS: readonly Board[] = [
  ...LPC176X_BOARDS,
  ...BTT_BOARDS,
  ...CREALITY_BOARDS,
  ...MKS_BOARDS,
  ...FYSETC_BOARDS,
  ...MELLOW_BOARDS,
  ...CHITU_BOARDS,
  ...QIDI_BOARDS,
  ...ELEGOO_BOARDS,
  ...SOVOL_BOARDS,
  ...ANYCUBIC_BOARDS,
  ...ARTILLERY_BOARDS,
  ...OTHER_BOARDS,
];
