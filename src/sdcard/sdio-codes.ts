/*
 * The codes of Klipper's `sdio_*` commands, shared by the host driver (through the bus) and the
 * simulated MCU and card: the `error` field of the `sdio_*_response` messages and the `wait`
 * argument of `sdio_send_command`.
 */

/**
 * Error codes exactly as Klipper's `sdio_send_command_response`, `sdio_read_data_response`
 * and `sdio_write_data_response` report them (`enum` in `src/stm32/sdio.c`).
 */
export const SdioError = {
  OK: 0,
  ERROR: 1,
  TIMEOUT: 2,
  CMD_RESPONSE_TIMEOUT: 3,
  CRC_FAIL: 4,
  WRONG_CMD_RESPONSE: 5,
  WRONG_BLOCKSIZE: 6,
  DATA_TIMEOUT: 7,
  READ_OVERRUN: 8,
  WRITE_UNDERRUN: 9,
  NO_DATA_MEMORY: 10,
} as const;
export type SdioErrorCode = (typeof SdioError)[keyof typeof SdioError];

/** The `wait` argument of `sdio_send_command`: which response the controller waits for. */
export const SdioWait = {
  NO_RESPONSE: 0,
  /** 48-bit response (R1, R1b, R3, R6, R7). */
  SHORT: 1,
  /** 136-bit response (R2: CID or CSD). */
  LONG: 2,
} as const;
export type SdioWaitType = (typeof SdioWait)[keyof typeof SdioWait];
