/**
 * Round trips measured, and the first wait for an answer they call for
 * (RFC 6298: the smoothed round trip plus four times its variation),
 * between a floor and a ceiling the caller gives. Only exchanges answered
 * on their only transmission may be measured (Karn's rule: an answer after
 * a retransmission could be to either copy), so that a peer slower than
 * every wait is still learned, a first wait that ran out doubles the next
 * ones until an answer is measured again (RFC 6298's backed-off timeout):
 * many that ran out together, each with the wait it was sent with, double
 * it once (the client's requests); passed the wait as it is now, each one
 * doubles it again (the server's pushes, whose waits must grow fast under
 * a store fault). Pure.
 */

/** Weights of the newest round trip in the smoothed estimate and in its variation (RFC 6298). */
const RTT_GAIN = 1 / 8;
const RTTVAR_GAIN = 1 / 4;

export class RoundTrips {
  private smoothed: number | undefined;
  private variation = 0;
  /** The first wait since one ran out with no answer (0: none ran out since the last measurement). */
  private backedOff = 0;

  /** An exchange answered `ms` after its only transmission. */
  sample(ms: number): void {
    if (!(ms >= 0 && Number.isFinite(ms))) return;
    this.backedOff = 0;
    if (this.smoothed === undefined) {
      this.smoothed = ms;
      this.variation = ms / 2;
      return;
    }
    this.variation += RTTVAR_GAIN * (Math.abs(this.smoothed - ms) - this.variation);
    this.smoothed += RTT_GAIN * (ms - this.smoothed);
  }

  /** A first transmission sent with first wait `waited` went unanswered for all of it. */
  ranOut(waited: number): void {
    this.backedOff = Math.max(this.backedOff, 2 * waited);
  }

  /** The wait after a first transmission: what was measured (or backed off to), within [floor, ceiling]. */
  wait(floor: number, ceiling: number): number {
    const measured = this.smoothed === undefined ? 0 : this.smoothed + 4 * this.variation;
    return Math.max(floor, Math.min(Math.max(measured, this.backedOff), ceiling));
  }
}
