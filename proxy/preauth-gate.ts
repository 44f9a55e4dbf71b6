import { ErrorCode } from "./protocol/constants";
import { ClientError } from "./client-error";

// Caps the connections that have not authenticated yet (greeting sent, login not verified), per client
// address and in all. Each holds a socket and memory until its handshake timeout, so without a cap one
// address could hold thousands (3,000 idle sockets were seen). Authenticated sessions are not counted here:
// the compute's own max_connections limits those.
//
// With several workers (proxy/cluster.ts) each counts its own connections exactly and hears of the others'
// through the primary (publish / applyRemote), like failed logins. Dividing the cap between workers would
// not do: the primary hands connections to whichever worker is free, so a burst from one address can land
// mostly on one worker. A worker tells the net change per address every publishAfterMs (the primary's
// workers: 10 ms), not each connection: most logins take a few milliseconds from greeting to verified, so
// their +1 and -1 cancel out and are never sent (two messages per connect through the primary, and two more
// to every other worker, were 5 % of a worker's CPU in a connect loop). From TOLD_AT_ONCE_FROM of one
// address in progress on a worker, every change is told at once, as before. Heard counts lag by that plus an IPC
// round trip, so a burst may overshoot the cap by the connections accepted meanwhile; past that the cap holds.

export interface PreAuthLimits {
  /** PROXY_PREAUTH_PER_ADDRESS. */
  perAddress: number;
  /** PROXY_PREAUTH_MAX. */
  max: number;
  /** Told of changes of this process's count for an address (+n admitted, -n released). */
  publish?: (address: string, delta: number) => void;
  /** Tell the net change per address this long after the first unpublished one (0: every change at once). */
  publishAfterMs?: number;
}

export interface PreAuthTicket {
  /** Idempotent: the connection authenticated or closed. */
  release(): void;
}

/** From this many connections of one address in progress on this worker, each change is told at once. */
const TOLD_AT_ONCE_FROM = 8;

/** Counts per address with a total. */
class Tally {
  private readonly counts = new Map<string, number>();
  total = 0;

  get(address: string): number {
    return this.counts.get(address) ?? 0;
  }

  add(address: string, delta: number): void {
    const before = this.get(address);
    const after = Math.max(0, before + delta);
    this.total += after - before;
    if (after === 0) this.counts.delete(address);
    else this.counts.set(address, after);
  }
}

export class PreAuthGate {
  private readonly local = new Tally();
  private readonly remote = new Tally();
  /** Net changes per address not yet published. */
  private readonly unpublished = new Map<string, number>();
  private publishTimer: NodeJS.Timeout | null = null;

  constructor(private readonly limits: PreAuthLimits) {}

  /** A ticket for one more unauthenticated connection from address, or the error to answer it with. */
  admit(address: string): PreAuthTicket | ClientError {
    if (this.local.get(address) + this.remote.get(address) >= this.limits.perAddress) {
      return new ClientError(
        ErrorCode.CON_COUNT,
        "08004",
        `Too many connections from ${address} still logging in (at most ${this.limits.perAddress}); finish or close some, or try again in a few seconds`,
        "too_many_preauth",
      );
    }
    if (this.local.total + this.remote.total >= this.limits.max) {
      return new ClientError(
        ErrorCode.CON_COUNT,
        "08004",
        `Too many connections still logging in to this proxy (at most ${this.limits.max}); try again in a few seconds`,
        "too_many_preauth",
      );
    }
    this.local.add(address, 1);
    this.changed(address, 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.local.add(address, -1);
        this.changed(address, -1);
      },
    };
  }

  private changed(address: string, delta: number): void {
    const { publish, publishAfterMs = 0 } = this.limits;
    if (!publish) return;
    const net = (this.unpublished.get(address) ?? 0) + delta;
    if (publishAfterMs <= 0 || this.local.get(address) >= TOLD_AT_ONCE_FROM) {
      // A burst from one address is told at every change, as the cap needs.
      this.unpublished.delete(address);
      if (net !== 0) publish(address, net);
      return;
    }
    if (net === 0) this.unpublished.delete(address);
    else this.unpublished.set(address, net);
    this.publishTimer ??= setTimeout(() => {
      this.publishTimer = null;
      for (const [changed, by] of this.unpublished) publish(changed, by);
      this.unpublished.clear();
    }, publishAfterMs).unref();
  }

  /** Another worker's connections from address changed by delta. */
  applyRemote(address: string, delta: number): void {
    this.remote.add(address, delta);
  }

  /** Unauthenticated connections now (this process). */
  get pending(): number {
    return this.local.total;
  }
}
