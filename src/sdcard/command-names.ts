/** Names of the SD commands for messages and traces, as the SD Physical Layer spec spells them. */
const NAMES: Record<number, string> = {
  0: 'CMD0 (GO_IDLE_STATE)',
  2: 'CMD2 (ALL_SEND_CID)',
  3: 'CMD3 (SEND_RELATIVE_ADDR)',
  7: 'CMD7 (SELECT_CARD)',
  8: 'CMD8 (SEND_IF_COND)',
  9: 'CMD9 (SEND_CSD)',
  10: 'CMD10 (SEND_CID)',
  12: 'CMD12 (STOP_TRANSMISSION)',
  13: 'CMD13 (SEND_STATUS)',
  16: 'CMD16 (SET_BLOCKLEN)',
  17: 'CMD17 (READ_SINGLE_BLOCK)',
  18: 'CMD18 (READ_MULTIPLE_BLOCK)',
  24: 'CMD24 (WRITE_BLOCK)',
  25: 'CMD25 (WRITE_MULTIPLE_BLOCK)',
  41: 'ACMD41 (SD_SEND_OP_COND)',
  55: 'CMD55 (APP_CMD)',
  58: 'CMD58 (READ_OCR)',
  59: 'CMD59 (CRC_ON_OFF)',
};

export function cmdName(index: number): string {
  return NAMES[index] ?? `CMD${index}`;
}
