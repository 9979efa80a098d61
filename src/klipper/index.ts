/** The Klipper protocol host: what flows (flash-sdcard, mcu-info) build on. */
export { McuSession, type McuSessionOptions, type McuConfigState, type ShutdownReport, type SendWithResponseOptions } from './session.js';
export { configureSpiOid, configureSdioOid, checkFresh, SD_SPI_SPEED, FAST_SD_SPI_SPEED, type SpiConfigOptions, type SdioConfigOptions, type ConfiguredOid } from './mcu-config.js';
export { connectWithRetry, type ReconnectOptions } from './reconnect.js';
export { DataDictionary, expandEnumerations, type RawDictionary, type Message } from './dictionary.js';
export { FORMATS, resolveFormat, type KnownFormat } from './command-formats.js';
export { ClockEstimator, pulseTicks } from './clock-sync.js';
export { MessageFormat } from './message-format.js';
export type { Params, ParamValue } from './param-types.js';
