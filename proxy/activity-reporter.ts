import { logger } from "@/server/logger";
import {
  PROXY_ACTIVITY_FLUSH_MS,
  PROXY_ACTIVITY_FORGET_MS,
  PROXY_HEARTBEAT_INTERVAL_MS,
} from "@/server/proxy-activity/constants";
import { heartbeat, registerProxyInstance, unregisterProxyInstance } from "@/server/proxy-activity/instances";
import { reportActivity } from "@/server/proxy-activity/report-activity";
import type { ByteCounter } from "./relay-socket";

// The proxy's side of activity reporting (DESIGN.md, "Proxy contract"): it counts open client connections per
// compute and the time of the last activity in memory, and writes what changed to PostgreSQL at most every
// intervalMs, beside a heartbeat every heartbeatMs, so a dead proxy's counts expire. opened/closed/touch are
// on the data path: they only update a Map entry. A failed write is logged and retried at the next flush;
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
  connections: number;
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

function noBytes(): { toCompute: ByteCounter; toClient: ByteCounter } {
  return { toCompute: { bytes: 0 }, toClient: { bytes: 0 } };
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
      this.entries.set(computeId, { connections: 0, lastActiveAt: Date.now(), version: 1, reported: -1, ...noBytes() });
    }
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
      entry = { connections: 0, lastActiveAt: Date.now(), version: 0, reported: -1, ...noBytes() };
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
    const batch: { computeId: string; version: number; connections: number; lastActiveAt: number; bytesIn: number; bytesOut: number }[] = [];
    const forget: string[] = [];
    for (const [computeId, entry] of this.entries) {
      const bytesIn = entry.toCompute.bytes;
      const bytesOut = entry.toClient.bytes;
      const dirty = entry.version !== entry.reported || bytesIn > 0 || bytesOut > 0;
      // Idle for a while: reported once more (so the last state is surely written) and then forgotten.
      const idle = forgetIdle && entry.connections === 0 && now - entry.lastActiveAt >= this.forgetAfterMs;
      if (!dirty && !idle) continue;
      batch.push({ computeId, version: entry.version, connections: entry.connections, lastActiveAt: entry.lastActiveAt, bytesIn, bytesOut });
      if (idle) forget.push(computeId);
    }
    if (batch.length === 0) return;
    try {
      await this.store.reportActivity(
        this.proxyId,
        batch.map((b) => ({
          computeId: b.computeId,
          connections: b.connections,
          lastActiveAt: new Date(b.lastActiveAt),
          bytesIn: b.bytesIn,
          bytesOut: b.bytesOut,
        })),
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
      entry.toCompute.bytes -= b.bytesIn;
      entry.toClient.bytes -= b.bytesOut;
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
