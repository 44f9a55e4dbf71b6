// Slows down password guessing: every failed login from an address adds to a penalty that decays over
// time; the next failure from that address is answered only after a delay that doubles with each recent
// failure (up to a cap). Successful logins are never delayed. Memory is bounded. With several worker
// processes each failure is also told to the other workers (applyRemoteFailure), so spreading guesses over
// connections that land on different workers gains nothing.

export interface ThrottleOptions {
  /** Failures allowed before any delay. */
  freeFailures?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A failure is forgotten after this long. */
  windowMs?: number;
  maxAddresses?: number;
  /** Told of every local failure. */
  publish?: (address: string, at: number) => void;
}

/**
 * The longest throttle delay for a handshake timeout: well inside it, so a throttled client is answered
 * (error 1045) rather than dropped by the timeout. The handshake also clamps each delay to its deadline.
 */
export function throttleMaxDelayMs(handshakeTimeoutMs: number): number {
  return Math.min(10_000, Math.floor(handshakeTimeoutMs / 2));
}

export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly o: Required<Omit<ThrottleOptions, "publish">>;
  private readonly publish: ThrottleOptions["publish"];

  constructor(options: ThrottleOptions = {}) {
    const { publish, ...limits } = options;
    this.o = { freeFailures: 3, baseDelayMs: 250, maxDelayMs: 10_000, windowMs: 60_000, maxAddresses: 100_000, ...limits };
    this.publish = publish;
  }

  private recent(address: string, now: number): number[] {
    const list = (this.failures.get(address) ?? []).filter((t) => now - t < this.o.windowMs);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }

  /** Record a failure; returns how long to wait before answering it. */
  fail(address: string, now = Date.now()): number {
    this.publish?.(address, now);
    return this.delayFor(this.record(address, now));
  }

  /** A failure another worker saw. */
  applyRemoteFailure(address: string, at: number): void {
    this.record(address, at);
  }

  /** Remember one failure; returns the address's recent failures. */
  private record(address: string, now: number): number {
    const list = this.recent(address, now);
    list.push(now);
    if (list.length > 64) list.splice(0, list.length - 64);
    if (!this.failures.has(address) && this.failures.size >= this.o.maxAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(address, list);
    return list.length;
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
