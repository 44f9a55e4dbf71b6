import crypto from "node:crypto";
import type { Connection, RowDataPacket } from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import { ActivityReporter } from "../proxy/activity-reporter";
import { call, newTenant } from "./api";
import { connectDirect, createProjectWithCompute, waitFor } from "./compute";

// The scheduler's idle check with parking (issue 14), against real mariadbd and the product's own scheduler
// (1 s ticks in the tests): compute threads that a live proxy reports holding without a client (its pooled
// connections) are not sessions; parked sessions are not activity; a pinned session is a connection and
// keeps the compute awake. The proxy's side here is a real ActivityReporter writing to the product's
// PostgreSQL, as a proxy process does; the threads are real sessions on the compute.

const reporters: ActivityReporter[] = [];
const connections: Connection[] = [];
afterAll(async () => {
  await Promise.all(reporters.map((r) => r.stop()));
  for (const c of connections) c.destroy();
});

function reporter(): ActivityReporter {
  const r = new ActivityReporter({ proxyId: `test-${crypto.randomBytes(5).toString("hex")}`, host: "test-host", intervalMs: 100, heartbeatMs: 500 });
  reporters.push(r);
  return r;
}

async function direct(c: { endpoint: { host: string; port: number }; password: string }): Promise<{ conn: Connection; threadId: number }> {
  const conn = await connectDirect(c.endpoint, c.password);
  connections.push(conn);
  const [rows] = await conn.query<RowDataPacket[]>("SELECT CONNECTION_ID() AS id");
  return { conn, threadId: Number(rows[0]!.id) };
}

interface Status {
  state: string;
  activeConnections: number;
  sessions: { active: number; parked: number; pinned: number; pins: { reason: string; sessions: number; idleSeconds: number }[] };
}

async function status(key: string, computeId: string): Promise<Status> {
  return (await call<{ compute: Status }>("GET", `/api/v1/compute/${computeId}/status`, { key })).body.compute;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("scheduler: parked, pinned and pooled sessions", () => {
  it("pauses a compute whose only sessions are a live proxy's idle server connections", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 2 });
    const pooled = [await direct(c), await direct(c)];
    const proxy = reporter();
    await proxy.start();
    // Two client sessions went idle and parked; the proxy kept their compute connections in its pool.
    proxy.opened(c.computeId);
    proxy.opened(c.computeId);
    proxy.parked(c.computeId);
    proxy.parked(c.computeId);
    proxy.idleServerConnections(
      c.computeId,
      pooled.map((p) => p.threadId),
    );
    await proxy.flush();
    expect((await status(tenant.key, c.computeId)).sessions).toEqual({ active: 0, parked: 2, pinned: 0, pins: [] });

    await waitFor(async () => (await status(tenant.key, c.computeId)).state === "paused", 20_000, "the compute to pause");
    const ops = (await call<{ operations: { kind: string; actor: string }[] }>("GET", `/api/v1/projects/${c.projectId}/operations`, { key: tenant.key }))
      .body.operations;
    expect(ops[0]).toMatchObject({ kind: "pause_compute", actor: "scheduler" });
  });

  it("keeps a compute with a pinned session running and says why; it pauses once that session parks", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 2 });
    const session = await direct(c);
    await session.conn.query("CREATE TABLE IF NOT EXISTS t (n INT)");
    await session.conn.query("BEGIN");
    await session.conn.query("INSERT INTO t VALUES (1)");
    const proxy = reporter();
    await proxy.start();
    proxy.opened(c.computeId);
    proxy.pinned(c.computeId, 1, ["open transaction"], Date.now() - 5_000);
    await proxy.flush();

    await sleep(6_000); // three suspend timeouts, with the scheduler looking every second
    const pinned = await status(tenant.key, c.computeId);
    expect(pinned.state).toBe("running");
    expect(pinned.activeConnections).toBe(1);
    expect(pinned.sessions).toMatchObject({ active: 0, parked: 0, pinned: 1, pins: [{ reason: "open transaction", sessions: 1 }] });
    expect(pinned.sessions.pins[0]!.idleSeconds).toBeGreaterThanOrEqual(5);

    // COMMIT releases it; the session parks and its connection goes back to the proxy's pool.
    await session.conn.query("COMMIT");
    proxy.pinned(c.computeId, 1, null);
    proxy.parked(c.computeId);
    proxy.idleServerConnections(c.computeId, [session.threadId]);
    await proxy.flush();
    await waitFor(async () => (await status(tenant.key, c.computeId)).state === "paused", 20_000, "the compute to pause");
    expect((await status(tenant.key, c.computeId)).sessions).toEqual({ active: 0, parked: 1, pinned: 0, pins: [] });
  });

  it("still counts a session on the compute that no proxy reports holding", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 2 });
    const held = await direct(c);
    await direct(c); // someone else's session, straight to the compute
    const proxy = reporter();
    await proxy.start();
    proxy.idleServerConnections(c.computeId, [held.threadId]);
    await proxy.flush();
    await sleep(6_000);
    expect((await status(tenant.key, c.computeId)).state).toBe("running");
  });
});
