import { AggregatorRegistry } from "prom-client";
import { describe, expect, it } from "vitest";
import { poolGaugeSink, register } from "./metrics";
import type { PoolSnapshot } from "./pool-snapshot";
import { PoolMetrics } from "./pool-metrics";

// The pools' Prometheus metrics (issue 15): per-compute snapshots summed into gauges, waits into a histogram
// and a timeout counter, on the proxy's real registry, and summed over cluster workers by prom-client's
// aggregator as the cluster primary does (proxy/cluster.ts).

function snapshot(fields: Partial<PoolSnapshot>): PoolSnapshot {
  return { serverInUse: 0, serverIdle: 0, serverLimit: 10, queued: 0, longestWaitMs: 0, waits: 0, waitMsTotal: 0, timeouts: 0, ...fields };
}

async function exposition(): Promise<string> {
  return register.metrics();
}

describe("pool metrics", () => {
  it("sets the gauges to the sums of each compute's latest snapshot", async () => {
    const pools = new PoolMetrics(poolGaugeSink);
    pools.pool("a", snapshot({ serverInUse: 3, serverIdle: 1, queued: 2 }));
    pools.pool("b", snapshot({ serverInUse: 4, serverIdle: 5 }));
    let text = await exposition();
    expect(text).toMatch(/^proxy_server_connections\{state="in_use"\} 7$/m);
    expect(text).toMatch(/^proxy_server_connections\{state="idle"\} 6$/m);
    expect(text).toMatch(/^proxy_pool_queued_clients 2$/m);

    // A compute's next snapshot replaces its last one (not added to it); an empty one drops it.
    pools.pool("a", snapshot({ serverInUse: 1, serverIdle: 0, queued: 0 }));
    pools.pool("b", snapshot({}));
    text = await exposition();
    expect(text).toMatch(/^proxy_server_connections\{state="in_use"\} 1$/m);
    expect(text).toMatch(/^proxy_server_connections\{state="idle"\} 0$/m);
    expect(text).toMatch(/^proxy_pool_queued_clients 0$/m);
    expect(pools.trackedComputes).toBe(1);
    pools.pool("a", snapshot({}));
    expect(pools.trackedComputes).toBe(0);
    expect(await exposition()).toMatch(/^proxy_server_connections\{state="in_use"\} 0$/m);
  });

  it("observes every ended wait and counts the ones that ran out", async () => {
    const pools = new PoolMetrics(poolGaugeSink);
    const before = await exposition();
    const countOf = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    pools.poolWait(0.004, "served");
    pools.poolWait(0.3, "served");
    pools.poolWait(20, "timeout");
    const after = await exposition();
    expect(countOf(after, /^proxy_pool_wait_seconds_count (\d+)$/m) - countOf(before, /^proxy_pool_wait_seconds_count (\d+)$/m)).toBe(3);
    expect(countOf(after, /^proxy_pool_wait_seconds_bucket\{le="0.005"\} (\d+)$/m) - countOf(before, /^proxy_pool_wait_seconds_bucket\{le="0.005"\} (\d+)$/m)).toBe(1);
    expect(countOf(after, /^proxy_pool_wait_seconds_bucket\{le="0.5"\} (\d+)$/m) - countOf(before, /^proxy_pool_wait_seconds_bucket\{le="0.5"\} (\d+)$/m)).toBe(2);
    expect(countOf(after, /^proxy_pool_wait_timeouts_total (\d+)$/m) - countOf(before, /^proxy_pool_wait_timeouts_total (\d+)$/m)).toBe(1);
    expect(after).toMatch(/^# TYPE proxy_pool_wait_seconds histogram$/m);
  });

  it("sums over cluster workers the way the primary's aggregator does", async () => {
    const pools = new PoolMetrics(poolGaugeSink);
    // Two workers' registries, taken as the primary collects them (each worker reports its own pools).
    pools.pool("x", snapshot({ serverInUse: 2, serverIdle: 3, queued: 1 }));
    const worker1 = await register.getMetricsAsJSON();
    pools.pool("x", snapshot({ serverInUse: 5, serverIdle: 0, queued: 4 }));
    const worker2 = await register.getMetricsAsJSON();
    pools.pool("x", snapshot({}));
    const text = await AggregatorRegistry.aggregate([worker1, worker2]).metrics();
    expect(text).toMatch(/^proxy_server_connections\{state="in_use"\} 7$/m);
    expect(text).toMatch(/^proxy_server_connections\{state="idle"\} 3$/m);
    expect(text).toMatch(/^proxy_pool_queued_clients 5$/m);
  });
});
