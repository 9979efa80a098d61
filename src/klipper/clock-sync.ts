/**
 * Estimate the MCU's clock from get_uptime/get_clock samples the way Klipper's
 * klippy/clocksync.py does: extend the 32-bit clock to 64 bits, and keep a decaying linear
 * regression of clock against the host time each query was sent. Good enough to convert
 * host time to MCU ticks; software SPI's pulse_ticks needs only the nominal CLOCK_FREQ.
 */
const DECAY = 1 / 30;

export interface ClockSample {
  /** MCU clock (32-bit, as reported). */
  clock: number;
  /** Host time (seconds) the query left. */
  sentTime: number;
}

export class ClockEstimator {
  private lastClock = 0;
  private timeAvg = 0;
  private timeVariance = 0;
  private clockAvg = 0;
  private clockCovariance = 0;
  private predictionVariance = 0;
  private freq: number;
  samples = 0;

  constructor(readonly nominalFreq: number) {
    this.freq = nominalFreq;
  }

  /** Seed from "uptime high=%u clock=%u" sent at `sentTime`. */
  start(high: number, clock: number, sentTime: number): void {
    this.lastClock = high * 2 ** 32 + clock;
    this.clockAvg = this.lastClock;
    this.timeAvg = sentTime;
    this.timeVariance = 0;
    this.clockCovariance = 0;
    this.predictionVariance = (0.001 * this.nominalFreq) ** 2;
    this.freq = this.nominalFreq;
    this.samples = 1;
  }

  /** Add a "clock clock=%u" sample; returns false when it was discarded as an outlier. */
  add(sample: ClockSample): boolean {
    const delta = (sample.clock - this.lastClock) & 0xffffffff;
    const clock = (this.lastClock = this.lastClock + (delta >>> 0));
    const expected = (sample.sentTime - this.timeAvg) * this.freq + this.clockAvg;
    const diff2 = (clock - expected) ** 2;
    if (diff2 > 25 * this.predictionVariance && diff2 > (0.0005 * this.nominalFreq) ** 2) {
      // A late reply (the query waited in a queue) makes the clock look ahead: drop it.
      if (clock > expected) return false;
      this.predictionVariance = (0.001 * this.nominalFreq) ** 2;
    } else {
      this.predictionVariance = (1 - DECAY) * (this.predictionVariance + diff2 * DECAY);
    }
    const dt = sample.sentTime - this.timeAvg;
    this.timeAvg += DECAY * dt;
    this.timeVariance = (1 - DECAY) * (this.timeVariance + dt * dt * DECAY);
    const dc = clock - this.clockAvg;
    this.clockAvg += DECAY * dc;
    this.clockCovariance = (1 - DECAY) * (this.clockCovariance + dt * dc * DECAY);
    if (this.timeVariance > 0) this.freq = this.clockCovariance / this.timeVariance;
    this.samples++;
    return true;
  }

  /** Estimated MCU frequency (Hz) from the regression. */
  get estimatedFreq(): number {
    return this.freq;
  }

  /** Estimated 64-bit MCU clock at host time `t` (seconds). */
  clockAt(t: number): number {
    return Math.round(this.clockAvg + (t - this.timeAvg) * this.freq);
  }
}

/**
 * Ticks per software-SPI clock period, as spi_flash.py computes it: CLOCK_FREQ // rate.
 */
export function pulseTicks(clockFreq: number, rateHz: number): number {
  if (!(rateHz > 0)) throw new RangeError('SPI rate must be positive');
  return Math.floor(clockFreq / rateHz);
}
