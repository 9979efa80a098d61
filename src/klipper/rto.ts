/** Klipper's host limits on the retransmit timeout, seconds (klippy/chelper/serialqueue.c). */
export const MIN_RTO = 0.025;
export const MAX_RTO = 5.0;

/**
 * The retransmit timeout, estimated from round trips as RFC 6298 does, with serialqueue.c's
 * deliberately high first estimate (srtt = 10 × the first sample) and its bounds.
 */
export class RtoEstimator {
  srtt = 0;
  rttvar = 0;
  rto = MIN_RTO;

  /** One measured round trip (seconds). */
  sample(delta: number): void {
    if (!this.srtt) {
      this.rttvar = delta / 2;
      this.srtt = delta * 10;
    } else {
      this.rttvar = (3 * this.rttvar + Math.abs(this.srtt - delta)) / 4;
      this.srtt = (7 * this.srtt + delta) / 8;
    }
    this.rto = Math.min(MAX_RTO, Math.max(MIN_RTO, this.srtt + Math.max(this.rttvar * 4, 0.001)));
  }

  /** A timeout expired: double the timeout (up to the bound). */
  backoff(): void {
    this.rto = Math.min(MAX_RTO, this.rto * 2);
  }
}
