import { logger } from "@/server/logger";
import {
  PROXY_ACTIVITY_FLUSH_MS,
  PROXY_ACTIVITY_FORGET_MS,
  PROXY_HEARTBEAT_INTERVAL_MS,
} from "@/server/proxy-activity/constants";
import { heartbeat, registerProxyInstance, unregisterProxyInstance } from "@/server/proxy-activity/instances";
import { reportActivity, type ActivityEntry } from "@/server/proxy-activity/report-activity";
import { summarizePins, type PinSummary, type SessionPin } from "@/server/proxy-activity/pins";
import type { PoolSnapshot } from "./pool-snapshot";
import type { ByteCounter } from "./relay-socket";

// The proxy's side of activity reporting (DESIGN.md, "Proxy contract"): it counts open client connections per
// compute and the time of the last activity in memory, and writes what changed to PostgreSQL at most every
// intervalMs, beside a heartbeat every heartbeatMs, so a dead proxy's counts expire. Beside the connections
// it reports parked sessions (no compute connection, no activity), pinned ones (idle past their park time but
// holding what cannot be rebuilt, with the reasons) and the compute threads it holds without a client (the
// scheduler does not count those as sessions), and the latest snapshot of its pool of the compute's server
// connections (issue 15). opened/closed/touch/parked/unparked/parkedClosed/pinned, idleServerConnections and
// pool are on the data path: they only update a Map entry. A failed write is logged and retried at the next flush;
// nothing here ever throws into the proxy.

/** The server/proxy-activity functions the reporter calls (replaceable in tests). */
export interface ActivityStore {
  registerProxyInstance: typeof registerProxyInstance;
  heartbeat: typeof heartbeat;
  reportActivity: typeof reportActivity;
  unregisterProxyInstance: typeof unregisterProxyInstance;
}

const defaultStore: ActivityStore = { registerProxyInstance, heartbeat, reportActivity, unregisterProxyInstance };

export interface ActivityReporterOptions {
  /** Random per process start. */
  proxyId: string;
  host: string;
  version?: string | null;
  /** Defaults to process.pid. */
  pid?: number;
  /** Write changed computes at most this often (default 1000 ms). */
  intervalMs?: number;
  /** Heartbeat this often (default PROXY_HEARTBEAT_INTERVAL_MS, 2000 ms). */
  heartbeatMs?: number;
  /** A compute with no connections and no activity for this long is reported once more, then forgotten (default 60 s). */
  forgetAfterMs?: number;
  store?: ActivityStore;
  /** Told the proxy's slot (its block of connection ids) when it registers, and again if it changes. */
  onSlot?: (slot: number) => void;
}

interface Tracked {
  /** Attached client sessions (pinned ones included, parked ones not). */
  connections: number;
  /** Parked client sessions. */
  parked: number;
  /** Pinned sessions by connection id. */
  pins: Map<number, SessionPin>;
  /** Compute thread ids held without a client session (pooled or lent). */
  idleThreadIds: readonly number[];
  /** The latest pool snapshot of the compute's server connections; null before the first (or after stop). */
  pool: PoolSnapshot | null;
  /** Date.now() of the last opened/closed/touch. */
  lastActiveAt: number;
  /** Bumped by every change; the entry is dirty while it differs from `reported`. */
  version: number;
  /** The version the database last accepted; -1 when it has nothing (new, or the proxy row was pruned). */
  reported: number;
  /** Bytes relayed and not yet written, added to by the sessions' relays (proxy/relay-socket.ts). */
  toCompute: ByteCounter;
  toClient: ByteCounter;
}

function newEntry(version: number): Tracked {
  return {
    connections: 0,
    parked: 0,
    pins: new Map(),
    idleThreadIds: [],
    pool: null,
    lastActiveAt: Date.now(),
    version,
    reported: -1,
    toCompute: { bytes: 0 },
    toClient: { bytes: 0 },
  };
}

const POOL_FIELDS = ["serverInUse", "serverIdle", "serverLimit", "queued", "longestWaitMs", "waits", "waitMsTotal", "timeouts"] as const;

function samePool(a: PoolSnapshot | null, b: PoolSnapshot): boolean {
  return a !== null && POOL_FIELDS.every((field) => a[field] === b[field]);
}

/** Whether the pool holds server connections or waiting clients (a compute's entry is kept while it does). */
function poolHolds(pool: PoolSnapshot | null): boolean {
  return pool !== null && (pool.serverInUse > 0 || pool.serverIdle > 0 || pool.queued > 0);
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** Failures are logged when a streak begins and then at most this often. */
const FAILURE_LOG_EVERY_MS = 30_000;

export class ActivityReporter {
  readonly proxyId: string;
  private readonly host: string;
  private readonly version: string | null;
  private readonly pid: number;
  private readonly intervalMs: number;
  private readonly heartbeatMs: number;
  private readonly forgetAfterMs: number;
  private readonly store: ActivityStore;

  private readonly entries = new Map<string, Tracked>();
  private registered = false;
  private running = false;
  private stopping: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** Flushes and heartbeats run one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private readonly failures = new Map<string, { since: number; loggedAt: number; count: number }>();
  private readonly onSlot: ((slot: number) => void) | undefined;
  private slot: number | null = null;

  constructor(options: ActivityReporterOptions) {
    this.proxyId = options.proxyId;
    this.host = options.host;
    this.version = options.version ?? null;
    this.pid = options.pid ?? process.pid;
    this.intervalMs = Math.max(10, options.intervalMs ?? PROXY_ACTIVITY_FLUSH_MS);
    this.heartbeatMs = Math.max(10, options.heartbeatMs ?? PROXY_HEARTBEAT_INTERVAL_MS);
    this.forgetAfterMs = Math.max(0, options.forgetAfterMs ?? PROXY_ACTIVITY_FORGET_MS);
    this.store = options.store ?? defaultStore;
    this.onSlot = options.onSlot;
  }

  /** Register the proxy and start the timers. Never throws: a database that is down is retried by the heartbeat. */
  async start(): Promise<void> {
    if (this.running || this.stopping) return;
    this.running = true;
    await this.enqueue(() => this.beat());
    this.scheduleFlush();
    this.scheduleHeartbeat();
  }

  /**
   * Stop the timers, write what is left (connections still open end with the proxy, so their end is activity
   * now), then delete the proxy's rows. Never throws.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      if (this.flushTimer) clearTimeout(this.flushTimer);
      if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
      this.flushTimer = this.heartbeatTimer = null;
      const now = Date.now();
      for (const entry of this.entries.values()) {
        if (entry.connections > 0) {
          entry.connections = 0;
          entry.lastActiveAt = now;
          entry.version++;
        }
        // Parked clients and pooled threads end with the proxy too; that is not activity.
        if (entry.parked > 0 || entry.pins.size > 0 || entry.idleThreadIds.length > 0 || entry.pool !== null) {
          entry.parked = 0;
          entry.pins.clear();
          entry.idleThreadIds = [];
          entry.pool = null;
          entry.version++;
        }
      }
      await this.enqueue(() => this.doFlush({ forgetIdle: false }));
      await this.enqueue(async () => {
        if (!this.registered) return;
        try {
          await this.store.unregisterProxyInstance(this.proxyId);
          this.registered = false;
        } catch (error) {
          logger.warn({ err: String(error), proxyId: this.proxyId }, "proxy activity: unregister failed (the row expires by its heartbeat)");
        }
      });
      this.entries.clear();
    })();
    return this.stopping;
  }

  /** A client connection to the compute was established. */
  opened(computeId: string): void {
    const entry = this.entry(computeId);
    entry.connections++;
    entry.lastActiveAt = Date.now();
    entry.version++;
  }

  /** A client connection to the compute ended. */
  closed(computeId: string): void {
    const entry = this.entry(computeId);
    if (entry.connections > 0) entry.connections--;
    entry.lastActiveAt = Date.now();
    entry.version++;
  }

  /** A query (or any traffic) went through to the compute. Cheap: no I/O. */
  touch(computeId: string): void {
    const entry = this.entries.get(computeId);
    if (entry) {
      entry.lastActiveAt = Date.now();
      entry.version++;
    } else {
      this.entries.set(computeId, newEntry(1));
    }
  }

  /**
   * A session parked: it keeps its client but lets go of the compute, so it stops counting as a connection
   * and as activity (no lastActiveAt change: parking is what idleness looks like), and counts as parked.
   */
  parked(computeId: string): void {
    const entry = this.entry(computeId);
    if (entry.connections > 0) entry.connections--;
    entry.parked++;
    entry.version++;
  }

  /**
   * A new client of a paused or suspended compute, logged in by the proxy alone: parked from the start.
   * Neither a connection nor activity (its login woke nothing).
   */
  arrivedParked(computeId: string): void {
    const entry = this.entry(computeId);
    entry.parked++;
    entry.version++;
  }

  /** A parked session re-attached to the compute (its client sent a command): a connection again, and activity. */
  unparked(computeId: string): void {
    const entry = this.entry(computeId);
    if (entry.parked > 0) entry.parked--;
    entry.connections++;
    entry.lastActiveAt = Date.now();
    entry.version++;
  }

  /** A parked session's client went away. Not activity: the compute never saw it. */
  parkedClosed(computeId: string): void {
    const entry = this.entry(computeId);
    if (entry.parked > 0) entry.parked--;
    entry.version++;
  }

  /**
   * A session idle past its park time that cannot park, with why (`reasons`, e.g. "open transaction"), idle
   * since `idleSinceMs` (Date.now() form; default: when it was first reported pinned). Null clears it: it
   * parked, became active or closed. Pinned sessions stay counted as connections (they keep the compute awake).
   */
  pinned(computeId: string, connectionId: number, reasons: readonly string[] | null, idleSinceMs?: number): void {
    const entry = reasons === null ? this.entries.get(computeId) : this.entry(computeId);
    if (!entry) return;
    const before = entry.pins.get(connectionId);
    if (reasons === null || reasons.length === 0) {
      if (before && entry.pins.delete(connectionId)) entry.version++;
      return;
    }
    const idleSince = idleSinceMs ?? before?.idleSince ?? Date.now();
    if (before && before.idleSince === idleSince && sameList([...before.reasons].sort(), [...reasons].sort())) return;
    entry.pins.set(connectionId, { reasons: [...reasons], idleSince });
    entry.version++;
  }

  /**
   * The full current set of compute thread ids this proxy holds open without a client session on them
   * (pooled or lent), replacing the last set. Not activity.
   */
  idleServerConnections(computeId: string, threadIds: readonly number[]): void {
    const ids = [...new Set(threadIds)].filter((id) => Number.isSafeInteger(id) && id > 0).sort((a, b) => a - b);
    const entry = ids.length === 0 ? this.entries.get(computeId) : this.entry(computeId);
    if (!entry || sameList(entry.idleThreadIds, ids)) return;
    entry.idleThreadIds = ids;
    entry.version++;
  }

  /**
   * The compute's pool of server connections changed (issue 15): the snapshot replaces the last one and is
   * written by the next flush. Not activity. Called after every change, so it only compares and copies.
   */
  pool(computeId: string, snapshot: PoolSnapshot): void {
    const entry = this.entry(computeId);
    if (samePool(entry.pool, snapshot)) return;
    entry.pool = { ...snapshot };
    entry.version++;
  }

  /**
   * The compute's byte counters, which its sessions' relays add to; the next flush writes and subtracts
   * what they hold. The entry lives while a session is open (it is forgotten only with no connections).
   */
  transfer(computeId: string): { toCompute: ByteCounter; toClient: ByteCounter } {
    const entry = this.entry(computeId);
    return { toCompute: entry.toCompute, toClient: entry.toClient };
  }

  /** Open connections this proxy counts for the compute. */
  connections(computeId: string): number {
    return this.entries.get(computeId)?.connections ?? 0;
  }

  /** What this proxy holds of the compute's sessions now (what the next flush writes). */
  sessions(computeId: string): { connections: number; parked: number; pinned: number; pins: PinSummary[]; idleThreadIds: readonly number[] } {
    const entry = this.entries.get(computeId);
    if (!entry) return { connections: 0, parked: 0, pinned: 0, pins: [], idleThreadIds: [] };
    return {
      connections: entry.connections,
      parked: entry.parked,
      pinned: entry.pins.size,
      pins: summarizePins(entry.pins.values()),
      idleThreadIds: entry.idleThreadIds,
    };
  }

  /** How many computes are held in memory. */
  get trackedComputes(): number {
    return this.entries.size;
  }

  /** Write what changed now (the timer does this every intervalMs). Never throws. */
  flush(): Promise<void> {
    return this.enqueue(() => this.doFlush({ forgetIdle: true }));
  }

  private entry(computeId: string): Tracked {
    let entry = this.entries.get(computeId);
    if (!entry) {
      entry = newEntry(0);
      this.entries.set(computeId, entry);
    }
    return entry;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step).catch((error: unknown) => {
      logger.error({ err: String(error), proxyId: this.proxyId }, "proxy activity: unexpected error");
    });
    this.queue = next;
    return next;
  }

  private scheduleFlush(): void {
    if (!this.running) return;
    this.flushTimer = setTimeout(() => {
      void this.flush().finally(() => this.scheduleFlush());
    }, this.intervalMs);
    this.flushTimer.unref();
  }

  private scheduleHeartbeat(): void {
    if (!this.running) return;
    this.heartbeatTimer = setTimeout(() => {
      void this.enqueue(() => this.beat()).finally(() => this.scheduleHeartbeat());
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** Heartbeat; register first (or again, after the row was pruned) and then report everything anew. */
  private async beat(): Promise<void> {
    try {
      if (this.registered && (await this.store.heartbeat(this.proxyId))) {
        this.succeeded("heartbeat");
        return;
      }
      const again = this.registered;
      const slot = await this.store.registerProxyInstance({
        id: this.proxyId,
        host: this.host,
        pid: this.pid,
        version: this.version,
        preferredSlot: this.slot,
      });
      this.registered = true;
      if (slot !== this.slot) {
        this.slot = slot;
        this.onSlot?.(slot);
      }
      for (const entry of this.entries.values()) entry.reported = -1;
      this.succeeded("heartbeat");
      if (again) logger.warn({ proxyId: this.proxyId }, "proxy activity: the proxy's row was gone; registered again");
      else logger.debug({ proxyId: this.proxyId }, "proxy activity: registered");
    } catch (error) {
      this.failed("heartbeat", error);
    }
  }

  private async doFlush({ forgetIdle }: { forgetIdle: boolean }): Promise<void> {
    if (!this.registered) return; // the heartbeat registers first; until then the rows could not be written
    const now = Date.now();
    const batch: (ActivityEntry & { version: number })[] = [];
    const forget: string[] = [];
    for (const [computeId, entry] of this.entries) {
      const bytesIn = entry.toCompute.bytes;
      const bytesOut = entry.toClient.bytes;
      const dirty = entry.version !== entry.reported || bytesIn > 0 || bytesOut > 0;
      // Idle for a while: reported once more (so the last state is surely written) and then forgotten.
      // Parked sessions, held threads and a pool holding connections or waiting clients keep it: their rows
      // are what the status and the idle check read.
      const holds = entry.connections > 0 || entry.parked > 0 || entry.pins.size > 0 || entry.idleThreadIds.length > 0 || poolHolds(entry.pool);
      const idle = forgetIdle && !holds && now - entry.lastActiveAt >= this.forgetAfterMs;
      if (!dirty && !idle) continue;
      batch.push({
        computeId,
        version: entry.version,
        connections: entry.connections,
        lastActiveAt: new Date(entry.lastActiveAt),
        bytesIn,
        bytesOut,
        parked: entry.parked,
        pinned: entry.pins.size,
        pins: summarizePins(entry.pins.values()),
        idleThreadIds: entry.idleThreadIds,
        ...(entry.pool && { pool: entry.pool }),
      });
      if (idle) forget.push(computeId);
    }
    if (batch.length === 0) return;
    try {
      await this.store.reportActivity(
        this.proxyId,
        batch.map(({ version: _version, ...entry }) => entry),
        { forget },
      );
      this.succeeded("flush");
    } catch (error) {
      this.failed("flush", error);
      return; // everything stays dirty and is written by the next flush
    }
    const forgotten = new Set(forget);
    for (const b of batch) {
      const entry = this.entries.get(b.computeId);
      if (!entry) continue;
      // Written: what was relayed since the batch was made stays for the next flush.
      entry.toCompute.bytes -= b.bytesIn ?? 0;
      entry.toClient.bytes -= b.bytesOut ?? 0;
      if (entry.version !== b.version || entry.toCompute.bytes > 0 || entry.toClient.bytes > 0) {
        // Changed meanwhile: still dirty, so written (and its row recreated) at the next flush.
        if (forgotten.has(b.computeId)) entry.reported = -1;
        continue;
      }
      if (forgotten.has(b.computeId)) this.entries.delete(b.computeId);
      else entry.reported = b.version;
    }
  }

  private failed(what: string, error: unknown): void {
    const now = Date.now();
    const streak = this.failures.get(what);
    if (!streak) {
      this.failures.set(what, { since: now, loggedAt: now, count: 1 });
      logger.warn({ err: String(error), proxyId: this.proxyId }, `proxy activity: ${what} failed; retrying`);
      return;
    }
    streak.count++;
    if (now - streak.loggedAt >= FAILURE_LOG_EVERY_MS) {
      streak.loggedAt = now;
      logger.warn(
        { err: String(error), proxyId: this.proxyId, failures: streak.count, sinceMs: now - streak.since },
        `proxy activity: ${what} still failing; retrying`,
      );
    }
  }

  private succeeded(what: string): void {
    const streak = this.failures.get(what);
    if (!streak) return;
    this.failures.delete(what);
    logger.info({ proxyId: this.proxyId, failures: streak.count, afterMs: Date.now() - streak.since }, `proxy activity: ${what} recovered`);
  }
}
