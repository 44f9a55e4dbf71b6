import { ErrorCode } from "./protocol/constants";
import { ClientError } from "./client-error";

// Caps the connections that have not authenticated yet (greeting sent, login not verified), per client
// address and in all. Each holds a socket and memory until its handshake timeout, so without a cap one
// address could hold thousands (3,000 idle sockets were seen). Authenticated sessions are not counted here:
// the compute's own max_connections limits those. With several workers each gets its share of the caps
// (connections are handed to workers round-robin, so a burst from one address spreads evenly).

export interface PreAuthLimits {
  /** PROXY_PREAUTH_PER_ADDRESS, for the whole proxy. */
  perAddress: number;
  /** PROXY_PREAUTH_MAX, for the whole proxy. */
  max: number;
  /** Processes sharing the listener (cluster workers); each enforces its share. */
  shares?: number;
}

export interface PreAuthTicket {
  /** Idempotent: the connection authenticated or closed. */
  release(): void;
}

export class PreAuthGate {
  private readonly byAddress = new Map<string, number>();
  private total = 0;
  private readonly perAddress: number;
  private readonly max: number;

  constructor(private readonly limits: PreAuthLimits) {
    const shares = Math.max(1, limits.shares ?? 1);
    this.perAddress = Math.ceil(limits.perAddress / shares);
    this.max = Math.ceil(limits.max / shares);
  }

  /** A ticket for one more unauthenticated connection from address, or the error to answer it with. */
  admit(address: string): PreAuthTicket | ClientError {
    const current = this.byAddress.get(address) ?? 0;
    if (current >= this.perAddress) {
      return new ClientError(
        ErrorCode.CON_COUNT,
        "08004",
        `Too many connections from ${address} still logging in (at most ${this.limits.perAddress}); finish or close some, or try again in a few seconds`,
        "too_many_preauth",
      );
    }
    if (this.total >= this.max) {
      return new ClientError(
        ErrorCode.CON_COUNT,
        "08004",
        `Too many connections still logging in to this proxy (at most ${this.limits.max}); try again in a few seconds`,
        "too_many_preauth",
      );
    }
    this.byAddress.set(address, current + 1);
    this.total++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.byAddress.get(address) ?? 1) - 1;
        if (left <= 0) this.byAddress.delete(address);
        else this.byAddress.set(address, left);
      },
    };
  }

  /** Unauthenticated connections now (this process). */
  get pending(): number {
    return this.total;
  }
}
