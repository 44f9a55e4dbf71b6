import type net from "node:net";
import type { BackendSession } from "./backend";
import type { Followed } from "./followed-compute";
import { ClientError } from "./client-error";
import type { PoolSnapshot } from "./pool-snapshot";
import type { ParkCapture } from "./session-state/park-capture";
import type { SessionState } from "./session-state/session-state";
import { ErrorCode } from "./protocol/constants";

// Who may hold which of a compute's server connections in this proxy process (issue 15: many clients, few
// server connections). Every server connection the process opens to a compute is counted from the moment
// its login is decided (reserve) until its socket closes, so the compute never sees more than `limit` of
// them from this process. A client session holds one only while it needs it: at each safe point (no
// command under way, no open transaction, nothing that pins it: proxy/session-state/pins.ts) its session
// *releases* it here - offers it, still relayed, still in that session's state - and withdraws the offer
// at its next command when nobody took it meanwhile (the common case: a set operation each). A session that needs a
// server connection when none is free and the limit is reached takes the longest-released one of the same
// login (its owner surrenders it: captures what it must restore later, see proxy/parking-session.ts, and
// the taker brings the connection to its own state: proxy/lend-restore.ts), or waits in a queue until a
// connection is released or closed; a wait that runs out is answered with 1040 and says what to do.
//
// Connections kept between sessions by the reuse pool (proxy/server-pool.ts) are counted like any other;
// a waiter that could use room closes one of those (`closeIdle`) rather than wait for its idle timeout.

/** The owner of a released connection. */
export interface Lender {
  /**
   * Give the connection `lease` names up to another session: capture what this session will need restored,
   * and let go of it. False when it cannot (its state cannot be captured or restored: it keeps the
   * connection), or when the lease is no longer the one it offered.
   */
  surrender(lease: Lease): Promise<boolean>;
  /**
   * What this session would leave on the connection if it gave it up at once, with nothing to ask the
   * compute (its state is known from its last capture): null when a surrender would take a round trip.
   */
  visibleNow(lease: Lease): Visible | null;
  /** Give the connection up at once (only right after visibleNow answered): lease.handover is set. */
  letGoNow(lease: Lease): void;
}

/** A session's state on a connection as a taker compares it with its own (proxy/lend-restore.ts). */
export interface Visible {
  state: SessionState;
  capture: ParkCapture;
}

/** promised: released, and handed to the first waiter it serves (no one else may take it; its owner still may). */
type LeaseState = "released" | "promised" | "surrendering" | "taken" | "held" | "gone";

/** A server connection a session released at a safe point. */
export class Lease {
  state: LeaseState = "released";
  readonly releasedAt = Date.now();
  /**
   * What the owner left on the connection when it surrendered it (the taker compares it with its own), and
   * the owner's follower of the connection, quiet, for a taker in the same state to go on with.
   */
  handover: { state: SessionState; capture: ParkCapture; followed?: Followed } | null = null;
  /**
   * While "surrendering": settles once the broker has recorded the outcome (taken, held or gone). The owner
   * waits for this, not for its own surrender's promise: that one settles before the state says who has
   * the connection, and a reclaim that looked in between found it neither the owner's nor given away.
   */
  surrendered: Promise<void> | null = null;

  constructor(
    readonly computeId: string,
    /** Sessions of the same key may take it: the same login (proxy/server-pool.ts's key without the database). */
    readonly key: string,
    readonly backend: BackendSession,
    /** The connection has a current database (a session without one cannot take it: USE cannot undo it). */
    readonly hasDatabase: boolean,
    /** The database the connection logged in with (what a reset for the reuse pool brings back). */
    readonly loginDatabase: string | null,
    readonly owner: Lender,
  ) {}
}

export interface Wanted {
  key: string | null;
  /** The session has no current database, so only a connection without one serves it. */
  needsNoDatabase: boolean;
  /**
   * Take over a released connection as it is, at once (a direct hand-over): the taker compares `visible`
   * with its own state and, when a client could see no difference, calls `take` (the owner lets go) and
   * goes on with the connection before returning true. False: the connection goes the usual way
   * (surrender, then restore). obtain() then resolves with { kind: "adopted" }.
   */
  adopt?: (visible: Visible, take: () => Lease) => boolean;
}

/**
 * What a session without a server connection gets: room to open one (reserved for it: its login uses the
 * reservation, or it gives it back with unreserve), or another session's released one.
 */
export type Obtained = { kind: "room" } | { kind: "lease"; lease: Lease } | { kind: "adopted" };

const ADOPTED: Obtained = { kind: "adopted" };

/** A login at the limit: the caller waits for room (obtain) or starts without a server connection. */
export class AtLimitError extends Error {}

interface Waiter {
  wanted: Wanted;
  since: number;
  resolve: (got: Obtained) => void;
  timer: NodeJS.Timeout;
}

interface ComputeSlots {
  /** Sockets open (or being opened: `reserved`) to the compute. */
  open: Set<net.Socket>;
  reserved: number;
  /**
   * Server connections this process may hold: its share of the limit, plus what it borrowed from the other
   * workers of the cluster, minus what it lent them (ClusterCredits).
   */
  allowance: number;
  /** A request for one more is out with the cluster (one at a time). */
  borrowing: boolean;
  /** Released connections, oldest first. */
  released: Set<Lease>;
  waiters: Waiter[];
  waits: number;
  waitMsTotal: number;
  timeouts: number;
}

/**
 * The cluster's side of the limit (proxy/cluster-credits.ts): the workers of one proxy share the compute's
 * server connections, each starting from an equal share. A worker whose sessions wait borrows room another
 * worker does not use; room a worker holds beyond its share goes back once unused.
 */
export interface ClusterCredits {
  /** Ask for room for one more server connection of the compute; `granted` answers when there is some. */
  borrow(computeId: string): void;
  /** Room this process no longer needs, given back. */
  giveBack(computeId: string, count: number): void;
  /** The limit across the cluster (what a refused client is told). */
  total: number;
}

export interface BrokerSettings {
  /** Server connections of one compute this process may hold (its share, with a cluster). */
  limit: number;
  cluster?: ClusterCredits;
  /** Client sessions of one compute this process accepts (a much larger bound). */
  clientLimit?: number;
  queueTimeoutMs: number;
  /** Close one idle connection of the compute kept by the reuse pool; false when it has none. */
  closeIdle?: (computeId: string) => boolean;
  /** Idle connections of the compute the reuse pool keeps (counted as idle in the snapshot). */
  idleKept?: (computeId: string) => number;
  report?: (computeId: string, snapshot: PoolSnapshot) => void;
  waited?: (seconds: number, outcome: "served" | "timeout") => void;
}

/** Snapshots are reported at most this often per compute (a busy compute changes on every statement). */
const REPORT_EVERY_MS = 100;

export class ConnectionBroker {
  private readonly computes = new Map<string, ComputeSlots>();
  private readonly clients = new Map<string, number>();
  private readonly reportTimers = new Map<string, NodeJS.Timeout>();
  private closingIdle = false;

  constructor(private readonly settings: BrokerSettings) {}

  get limit(): number {
    return this.settings.limit;
  }

  /** A new client session of the compute, counted until clientLeft; false beyond the client limit. */
  admitClient(computeId: string): boolean {
    const n = this.clients.get(computeId) ?? 0;
    if (n >= (this.settings.clientLimit ?? Infinity)) return false;
    this.clients.set(computeId, n + 1);
    return true;
  }

  clientLeft(computeId: string): void {
    const n = (this.clients.get(computeId) ?? 1) - 1;
    if (n > 0) this.clients.set(computeId, n);
    else this.clients.delete(computeId);
  }

  get clientLimit(): number {
    return this.settings.clientLimit ?? Infinity;
  }

  /** Whether sessions of the compute wait for a server connection in this process now. */
  hasWaiters(computeId: string): boolean {
    const slots = this.computes.get(computeId);
    return slots !== undefined && slots.waiters.length > 0;
  }

  /** Whether a new server connection of the compute may be opened now (no reservation made). */
  hasRoom(computeId: string): boolean {
    const slots = this.computes.get(computeId);
    return !slots || hasSpare(slots);
  }

  /** Room for one new server connection, reserved: opened() or unreserve() follows. False at the limit. */
  reserve(computeId: string): boolean {
    const slots = this.slots(computeId);
    if (!hasSpare(slots)) {
      this.settings.closeIdle?.(computeId); // frees room for the next try once its socket closes
      this.borrow(computeId, slots);
      return false;
    }
    slots.reserved++;
    return true;
  }

  unreserve(computeId: string): void {
    const slots = this.slots(computeId);
    slots.reserved = Math.max(0, slots.reserved - 1);
    this.changed(computeId, slots);
  }

  /** The reserved login succeeded: its socket counts until it closes. */
  opened(computeId: string, socket: net.Socket): void {
    const slots = this.slots(computeId);
    slots.reserved = Math.max(0, slots.reserved - 1);
    if (socket.destroyed) return this.changed(computeId, slots);
    slots.open.add(socket);
    socket.once("close", () => {
      slots.open.delete(socket);
      this.changed(computeId, slots);
    });
    this.changed(computeId, slots);
  }

  /** A session at a safe point lets its connection idle; it may take it back (reclaim) or lose it to a taker. */
  release(lease: Lease): void {
    const slots = this.slots(lease.computeId);
    slots.released.add(lease);
    if (!this.serveWaiter(slots, lease)) this.changed(lease.computeId, slots);
  }

  /**
   * The owner's next command: its connection back if nobody took it ("mine"); "taken" when it was (the
   * owner surrendered: it restores elsewhere); "gone" when the compute closed it meanwhile. While a
   * surrender is under way the owner waits for its outcome.
   */
  async reclaim(lease: Lease): Promise<"mine" | "taken" | "gone"> {
    if (lease.state === "surrendering" && lease.surrendered) await lease.surrendered;
    if (this.withdraw(lease)) return "mine";
    return lease.state === "gone" ? "gone" : "taken";
  }

  /** The owner ends (its client left): its connection back at once when nobody is taking it. */
  withdraw(lease: Lease): boolean {
    if (lease.state !== "released" && lease.state !== "promised" && lease.state !== "held") return false;
    const slots = this.slots(lease.computeId);
    slots.released.delete(lease);
    lease.state = "taken";
    this.changed(lease.computeId, slots);
    return true;
  }

  /**
   * A server connection for a session that has none: room to open one, another session's released one
   * (surrendered to the caller), or a wait in the queue until either; a wait that runs out throws 1040.
   */
  async obtain(computeId: string, wanted: Wanted, describe: string): Promise<Obtained> {
    const slots = this.slots(computeId);
    for (;;) {
      // Room goes to the queue in order; a released connection still here is one no waiter could use.
      if (slots.waiters.length === 0 && hasSpare(slots)) {
        slots.reserved++;
        return { kind: "room" };
      }
      const lease = this.oldestFor(slots, wanted);
      if (lease) {
        if (this.handOver(slots, lease, wanted)) return ADOPTED;
        const taken = await this.surrender(slots, lease);
        if (taken) return taken;
        continue;
      }
      // Nothing this session can use: a connection of another login (or one with a database, for a session
      // without) is closed to make room, rather than let sessions of one login starve the others.
      if (!this.settings.closeIdle?.(computeId)) {
        const other = slots.released.values().next().value;
        if (other && (await this.surrender(slots, other))) other.backend.compute.socket.destroy();
      }
      let got = await this.wait(computeId, slots, wanted, describe, false);
      // A connection promised to this waiter whose owner took it back first: waiting goes on at the front.
      for (;;) {
        if (got.kind !== "lease") return got;
        const taken = await this.surrender(slots, got.lease);
        if (taken) return taken;
        got = await this.wait(computeId, slots, wanted, describe, true);
      }
    }
  }

  /** What the compute's server connections and queue look like in this process now. */
  snapshot(computeId: string): PoolSnapshot {
    const slots = this.slots(computeId);
    const idleKept = this.settings.idleKept?.(computeId) ?? 0;
    const idle = slots.released.size + idleKept;
    const now = Date.now();
    return {
      serverInUse: Math.max(0, slots.open.size - idle),
      serverIdle: idle,
      serverLimit: this.settings.limit,
      queued: slots.waiters.length,
      longestWaitMs: slots.waiters.length > 0 ? now - slots.waiters[0]!.since : 0,
      waits: slots.waits,
      waitMsTotal: slots.waitMsTotal,
      timeouts: slots.timeouts,
    };
  }

  /** The reuse pool's count changed (idle connections kept or taken): report, and let a waiter use room. */
  poolChanged(computeId: string): void {
    const slots = this.computes.get(computeId);
    if (!slots) return;
    // A connection kept for reuse while clients wait for room: theirs first (one per change: closing it
    // reports a change again).
    if (slots.waiters.length > 0 && !this.closingIdle) {
      this.closingIdle = true;
      try {
        this.settings.closeIdle?.(computeId);
      } finally {
        this.closingIdle = false;
      }
    }
    this.changed(computeId, slots);
  }

  /** The cluster gave this process room for one more server connection of the compute. */
  granted(computeId: string): void {
    const slots = this.slots(computeId);
    slots.borrowing = false;
    slots.allowance++;
    this.changed(computeId, slots); // a waiter uses it, or it goes back
  }

  /**
   * Another worker's sessions wait: room this process does not use (no session waits here, a server
   * connection fewer than it may hold) is lent to the cluster. 1 when lent, 0 when not.
   */
  lend(computeId: string): number {
    const slots = this.slots(computeId);
    if (slots.waiters.length > 0 || !hasSpare(slots)) return 0;
    slots.allowance--;
    return 1;
  }

  // ---- inside ----------------------------------------------------------------------------------------

  /** At this process's allowance with sessions waiting: ask the cluster for room (one request at a time). */
  private borrow(computeId: string, slots: ComputeSlots): void {
    if (!this.settings.cluster || slots.borrowing) return;
    slots.borrowing = true;
    this.settings.cluster.borrow(computeId);
  }

  private slots(computeId: string): ComputeSlots {
    let slots = this.computes.get(computeId);
    if (!slots) {
      slots = { open: new Set(), reserved: 0, allowance: this.settings.limit, borrowing: false, released: new Set(), waiters: [], waits: 0, waitMsTotal: 0, timeouts: 0 };
      this.computes.set(computeId, slots);
    }
    return slots;
  }

  private oldestFor(slots: ComputeSlots, wanted: Wanted): Lease | null {
    if (wanted.key === null) return null;
    for (const lease of slots.released) {
      if (lease.key === wanted.key && !(wanted.needsNoDatabase && lease.hasDatabase)) return lease;
    }
    return null;
  }

  /** Ask the owner to give the lease up; the lease for the caller when it did, null when not (try again). */
  private async surrender(slots: ComputeSlots, lease: Lease): Promise<Obtained | null> {
    if (lease.state !== "released" && lease.state !== "promised") return null; // its owner took it back, or another taker came first
    slots.released.delete(lease);
    lease.state = "surrendering";
    let settle!: () => void;
    lease.surrendered = new Promise<void>((resolve) => (settle = resolve));
    let given = false;
    try {
      given = await lease.owner.surrender(lease).catch(() => false);
      if ((lease.state as LeaseState) === "gone" || lease.backend.compute.socket.destroyed) {
        lease.state = "gone";
        given = false;
      } else {
        lease.state = given ? "taken" : "held";
      }
    } finally {
      lease.surrendered = null;
      settle(); // the owner's reclaim now sees the outcome (a surrender that failed leaves it "held": the owner's)
    }
    this.changed(lease.computeId, slots);
    return given ? { kind: "lease", lease } : null;
  }

  private wait(computeId: string, slots: ComputeSlots, wanted: Wanted, describe: string, first: boolean): Promise<Obtained> {
    return new Promise<Obtained>((resolve, reject) => {
      const since = Date.now();
      const waiter: Waiter = {
        wanted,
        since,
        resolve: (got) => {
          clearTimeout(waiter.timer);
          this.waitEnded(slots, since, "served");
          resolve(got);
        },
        timer: setTimeout(() => {
          const at = slots.waiters.indexOf(waiter);
          if (at >= 0) slots.waiters.splice(at, 1);
          this.waitEnded(slots, since, "timeout");
          this.changed(computeId, slots);
          reject(atLimit(describe, this.settings.cluster?.total ?? this.settings.limit, this.settings.queueTimeoutMs));
        }, this.settings.queueTimeoutMs),
      };
      waiter.timer.unref();
      if (first) slots.waiters.unshift(waiter);
      else slots.waiters.push(waiter);
      this.changed(computeId, slots);
    });
  }

  private waitEnded(slots: ComputeSlots, since: number, outcome: "served" | "timeout"): void {
    const ms = Date.now() - since;
    slots.waits++;
    slots.waitMsTotal += ms;
    if (outcome === "timeout") slots.timeouts++;
    this.settings.waited?.(ms / 1000, outcome);
  }

  /**
   * A lease just released: the first waiter it serves is handed it (true), else it stays released. It stays
   * watched in the list until the waiter asks its owner to surrender (the owner may reclaim it first).
   */
  private serveWaiter(slots: ComputeSlots, lease: Lease): boolean {
    const first = slots.waiters[0];
    if (!first) return false;
    if (first.wanted.key !== lease.key || (first.wanted.needsNoDatabase && lease.hasDatabase)) {
      // The longest waiter cannot use it (another login, or no database): it is closed to make room for that
      // waiter, rather than serve the ones behind it (which would leave it waiting for good).
      void this.surrender(slots, lease).then((taken) => taken && lease.backend.compute.socket.destroy());
      return true;
    }
    const waiter = slots.waiters.shift()!;
    if (this.handOver(slots, lease, waiter.wanted)) {
      waiter.resolve(ADOPTED);
      return true;
    }
    slots.released.delete(lease);
    lease.state = "promised";
    waiter.resolve({ kind: "lease", lease });
    this.changed(lease.computeId, slots);
    return true;
  }

  /**
   * A direct hand-over of a released connection, when both sides can do it at once: the owner knows its
   * state without asking the compute, and the taker sees it is its own. No promise, timer or round trip
   * between one session's reply and the next one's statement: at a thousand clients to a hundred
   * connections, that is nearly every statement.
   */
  private handOver(slots: ComputeSlots, lease: Lease, wanted: Wanted): boolean {
    if (!wanted.adopt || (lease.state !== "released" && lease.state !== "promised")) return false;
    const visible = lease.owner.visibleNow(lease);
    if (!visible) return false;
    const adopted = wanted.adopt(visible, () => {
      slots.released.delete(lease);
      lease.owner.letGoNow(lease);
      lease.state = "taken";
      return lease;
    });
    if (adopted) this.changed(lease.computeId, slots);
    return adopted;
  }

  /** After every change: waiters that room now serves go ahead, and the snapshot is reported. */
  private changed(computeId: string, slots: ComputeSlots): void {
    while (slots.waiters.length > 0 && hasSpare(slots)) {
      slots.reserved++; // the waiter's login uses this reservation
      slots.waiters.shift()!.resolve({ kind: "room" });
    }
    const cluster = this.settings.cluster;
    if (cluster) {
      if (slots.waiters.length > 0) this.borrow(computeId, slots);
      else {
        // Room held beyond this process's share and not used goes back to the cluster.
        const spare = slots.allowance - Math.max(this.settings.limit, slots.open.size + slots.reserved);
        if (spare > 0) {
          slots.allowance -= spare;
          cluster.giveBack(computeId, spare);
        }
      }
    }
    const report = this.settings.report;
    if (!report || this.reportTimers.has(computeId)) return;
    const timer = setTimeout(() => {
      this.reportTimers.delete(computeId);
      report(computeId, this.snapshot(computeId));
    }, REPORT_EVERY_MS);
    timer.unref();
    this.reportTimers.set(computeId, timer);
  }
}

/** Room for one more server connection within what this process may hold. */
const hasSpare = (slots: ComputeSlots) => slots.open.size + slots.reserved < slots.allowance;

/** The error a client gets when its wait for a server connection runs out. */
export function atLimit(describe: string, limit: number, timeoutMs: number): ClientError {
  return new ClientError(
    ErrorCode.CON_COUNT,
    "08004",
    `Too many connections: ${describe} is at its limit of ${limit} server connections through this proxy, and this statement waited ` +
      `${Math.round(timeoutMs / 100) / 10} s for one; use a larger compute size, or keep fewer transactions open for long (each holds a server connection until it ends)`,
    "pool_timeout",
  );
}
