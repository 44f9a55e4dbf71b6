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
// mostly on one worker. Heard counts lag by an IPC round trip, so a burst may overshoot the cap by the
// connections accepted meanwhile; past that the cap holds.

export interface PreAuthLimits {
  /** PROXY_PREAUTH_PER_ADDRESS. */
  perAddress: number;
  /** PROXY_PREAUTH_MAX. */
  max: number;
  /** Told of every change of this process's count for an address (+1 admitted, -1 released). */
  publish?: (address: string, delta: number) => void;
}

export interface PreAuthTicket {
  /** Idempotent: the connection authenticated or closed. */
  release(): void;
}

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
    this.limits.publish?.(address, 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.local.add(address, -1);
        this.limits.publish?.(address, -1);
      },
    };
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
