// Reconnect policy: capped exponential backoff with full jitter (AWS architecture note
// "Exponential Backoff and Jitter"), so many recorders do not reconnect in lockstep after an
// outage (ACS-5.4.2.4: stable, orderly reconnection). Pure and deterministic given `random`.

export interface ReconnectPolicyOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  multiplier?: number;
  /** 0 = no jitter, 1 = full jitter (delay uniformly in [0, backoff]). */
  jitter?: number;
  random?: () => number;
}

export class ReconnectPolicy {
  private readonly initial: number;
  private readonly max: number;
  private readonly multiplier: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: ReconnectPolicyOptions = {}) {
    this.initial = options.initialDelayMs ?? 500;
    this.max = options.maxDelayMs ?? 30_000;
    this.multiplier = options.multiplier ?? 2;
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.random = options.random ?? Math.random;
    if (!(this.initial > 0 && this.max >= this.initial && this.multiplier >= 1)) throw new TypeError('invalid reconnect policy');
  }

  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt; grows until maxDelayMs. */
  nextDelayMs(): number {
    const exponent = Math.min(this.attempt, 60);
    this.attempt += 1;
    const backoff = Math.min(this.max, this.initial * this.multiplier ** exponent);
    return Math.round(backoff * (1 - this.jitter * this.random()));
  }

  /** After a connection that worked, start again from the initial delay. */
  reset(): void {
    this.attempt = 0;
  }
}
