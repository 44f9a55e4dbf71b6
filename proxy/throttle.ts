// Slows down password guessing: every failed login from an address adds to a penalty that decays over
// time; the next failure from that address is answered only after a delay that doubles with each recent
// failure (up to a cap). Successful logins are never delayed. Memory is bounded.

export interface ThrottleOptions {
  /** Failures allowed before any delay. */
  freeFailures?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A failure is forgotten after this long. */
  windowMs?: number;
  maxAddresses?: number;
}

export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly o: Required<ThrottleOptions>;

  constructor(options: ThrottleOptions = {}) {
    this.o = { freeFailures: 3, baseDelayMs: 250, maxDelayMs: 10_000, windowMs: 60_000, maxAddresses: 100_000, ...options };
  }

  private recent(address: string, now: number): number[] {
    const list = (this.failures.get(address) ?? []).filter((t) => now - t < this.o.windowMs);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }

  /** Record a failure; returns how long to wait before answering it. */
  fail(address: string, now = Date.now()): number {
    const list = this.recent(address, now);
    list.push(now);
    if (list.length > 64) list.splice(0, list.length - 64);
    if (!this.failures.has(address) && this.failures.size >= this.o.maxAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(address, list);
    return this.delayFor(list.length);
  }

  delayFor(failures: number): number {
    const over = failures - this.o.freeFailures;
    if (over <= 0) return 0;
    return Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (over - 1));
  }

  get trackedAddresses(): number {
    return this.failures.size;
  }
}
