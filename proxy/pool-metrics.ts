import type { PoolSnapshot } from "./pool-snapshot";

// The Prometheus side of the proxy's pools (issue 15): the connection broker reports each compute's snapshot
// after every change; the gauges show the sums over computes (a cluster's primary sums them over workers).
// Running totals, so a report costs a Map lookup and a few additions, not a walk over every compute.

/** The gauges' and the wait metrics' setters (proxy/metrics.ts in the product, plain records in tests). */
export interface PoolGaugeSink {
  serverConnections(state: "in_use" | "idle", value: number): void;
  queued(value: number): void;
  wait(seconds: number): void;
  timeout(): void;
}

type Counted = Pick<PoolSnapshot, "serverInUse" | "serverIdle" | "queued">;

export class PoolMetrics {
  private readonly latest = new Map<string, Counted>();
  private inUse = 0;
  private idle = 0;
  private queued = 0;

  constructor(private readonly sink: PoolGaugeSink) {}

  /** The compute's latest snapshot replaces its last one; a compute that holds nothing is forgotten. */
  pool(computeId: string, snapshot: PoolSnapshot): void {
    const before = this.latest.get(computeId);
    const now = { serverInUse: count(snapshot.serverInUse), serverIdle: count(snapshot.serverIdle), queued: count(snapshot.queued) };
    this.inUse += now.serverInUse - (before?.serverInUse ?? 0);
    this.idle += now.serverIdle - (before?.serverIdle ?? 0);
    this.queued += now.queued - (before?.queued ?? 0);
    if (now.serverInUse + now.serverIdle + now.queued === 0) this.latest.delete(computeId);
    else this.latest.set(computeId, now);
    this.sink.serverConnections("in_use", this.inUse);
    this.sink.serverConnections("idle", this.idle);
    this.sink.queued(this.queued);
  }

  /** A client's wait for a server connection ended: served, or it ran out (the client got an error). */
  poolWait(seconds: number, outcome: "served" | "timeout"): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.sink.wait(seconds);
    if (outcome === "timeout") this.sink.timeout();
  }

  /** Computes whose pools hold connections or waiting clients now. */
  get trackedComputes(): number {
    return this.latest.size;
  }
}

function count(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0;
}
