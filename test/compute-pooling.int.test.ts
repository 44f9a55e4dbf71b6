import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActivityReporter } from "../proxy/activity-reporter";
import type { PoolSnapshot } from "../proxy/pool-snapshot";
import { RouteCache } from "../proxy/routing";
import { db, disconnectDb } from "../server/db";
import { call, newTenant, type Tenant } from "./api";

// Connection pooling's switch and visibility (issue 15): PATCH and create take poolConnections, the proxy's
// route reads it, and the compute's status shows the pools that live proxies report (real ActivityReporters
// writing to PostgreSQL), summed over them.

const errorBody = { error: { code: "validation", message: expect.any(String), details: expect.any(Array) } };
const rand = () => crypto.randomBytes(4).toString("hex");

let tenant: Tenant;
const reporters: ActivityReporter[] = [];
beforeAll(async () => {
  tenant = await newTenant();
});
afterAll(async () => {
  await Promise.all(reporters.map((r) => r.stop()));
  await db.proxyInstance.deleteMany({ where: { id: { in: reporters.map((r) => r.proxyId) } } });
  await db.organization.deleteMany({ where: { id: tenant?.organizationId } });
  await disconnectDb();
});

/** A project with a role and a compute row (suspended, so the reconciler leaves it alone). */
async function newCompute(): Promise<{ computeId: string; slug: string }> {
  const slug = `pool-${rand()}`;
  const project = await db.project.create({ data: { organizationId: tenant.organizationId, slug, name: slug } });
  await db.projectRole.create({ data: { projectId: project.id, name: "app", passwordHash: `*${"A".repeat(40)}` } });
  const compute = await db.compute.create({ data: { projectId: project.id, state: "suspended" } });
  return { computeId: compute.id, slug };
}

interface PoolingReply {
  enabled: boolean;
  clientSessions: number;
  serverConnections: { inUse: number; idle: number; limit: number };
  queue: { waiting: number; longestWaitMs: number; averageWaitMs: number; timeouts: number };
}

const patch = (computeId: string, body: unknown) => call<{ compute: Record<string, unknown> }>("PATCH", `/api/v1/compute/${computeId}`, { key: tenant.key, body });
const route = (slug: string) => new RouteCache(0).lookup({ slug, role: "app" });
async function status(computeId: string): Promise<{ poolConnections: boolean; pooling: PoolingReply }> {
  const res = await call<{ compute: { poolConnections: boolean; pooling: PoolingReply } }>("GET", `/api/v1/compute/${computeId}/status`, { key: tenant.key });
  expect(res.status).toBe(200);
  return res.body.compute;
}

function reporter(): ActivityReporter {
  // Long timers: every write in these tests is an explicit flush.
  const r = new ActivityReporter({ proxyId: `pool-test-${rand()}`, host: "test-host", intervalMs: 60_000, heartbeatMs: 600_000 });
  reporters.push(r);
  return r;
}

function snapshot(fields: Partial<PoolSnapshot>): PoolSnapshot {
  return { serverInUse: 0, serverIdle: 0, serverLimit: 0, queued: 0, longestWaitMs: 0, waits: 0, waitMsTotal: 0, timeouts: 0, ...fields };
}

describe("compute connection pooling", () => {
  it("is on by default; PATCH turns it off and on, and the proxy's route follows", async () => {
    const { computeId, slug } = await newCompute();
    expect(await status(computeId)).toMatchObject({
      poolConnections: true,
      pooling: { enabled: true, clientSessions: 0, serverConnections: { inUse: 0, idle: 0, limit: 0 }, queue: { waiting: 0, averageWaitMs: 0 } },
    });
    expect((await route(slug))?.compute?.pooling).toBe(true);

    const off = await patch(computeId, { poolConnections: false });
    expect(off.status).toBe(200);
    expect(off.body.compute).toMatchObject({ poolConnections: false, pooling: { enabled: false } });
    expect((await route(slug))?.compute?.pooling).toBe(false);
    expect((await status(computeId)).pooling.enabled).toBe(false);

    expect((await patch(computeId, { poolConnections: true })).body.compute).toMatchObject({ poolConnections: true });
    expect((await route(slug))?.compute?.pooling).toBe(true);
  });

  it("refuses a switch that is not true or false with 422 and the field, and changes nothing", async () => {
    const { computeId } = await newCompute();
    for (const value of ["no", null, 0]) {
      const res = await patch(computeId, { poolConnections: value });
      expect(res.status, JSON.stringify(value)).toBe(422);
      expect(res.body).toEqual(errorBody);
      const details = (res.body as unknown as { error: { details: { path: string; message: string }[] } }).error.details;
      expect(details).toEqual([{ path: "poolConnections", message: "must be true or false" }]);
    }
    expect((await db.compute.findUniqueOrThrow({ where: { id: computeId } })).poolConnections).toBe(true);
  });

  it("sums the pools of live proxies in the status; a dead proxy's pool stops counting", async () => {
    const { computeId } = await newCompute();
    const a = reporter();
    const b = reporter();
    await Promise.all([a.start(), b.start()]);
    // a: 5 clients (1 parked), 3 server connections in use and 1 idle of 60, 2 clients waiting, the longest
    // for 300 ms; 10 waits ended in 1,000 ms in all, 1 of them ran out.
    for (let i = 0; i < 5; i++) a.opened(computeId);
    a.parked(computeId);
    a.pool(computeId, snapshot({ serverInUse: 3, serverIdle: 1, serverLimit: 60, queued: 2, longestWaitMs: 300, waits: 10, waitMsTotal: 1_000, timeouts: 1 }));
    // b: 2 clients, 1 in use and 2 idle of 60, 1 waiting for 700 ms; 30 waits in 5,000 ms, 2 ran out.
    b.opened(computeId);
    b.opened(computeId);
    b.pool(computeId, snapshot({ serverInUse: 1, serverIdle: 2, serverLimit: 60, queued: 1, longestWaitMs: 700, waits: 30, waitMsTotal: 5_000, timeouts: 2 }));
    await Promise.all([a.flush(), b.flush()]);

    expect((await status(computeId)).pooling).toEqual({
      enabled: true,
      clientSessions: 7,
      serverConnections: { inUse: 4, idle: 3, limit: 120 },
      queue: { waiting: 3, longestWaitMs: 700, averageWaitMs: 150, timeouts: 3 },
    });
    const row = await db.proxyActivity.findUniqueOrThrow({ where: { proxyId_computeId: { proxyId: a.proxyId, computeId } } });
    expect(row).toMatchObject({ poolServerInUse: 3, poolServerIdle: 1, poolServerLimit: 60, poolQueued: 2, poolLongestWaitMs: 300, poolWaits: 10, poolTimeouts: 1 });
    expect(row.poolWaitMsTotal).toBe(1_000n);

    // b's heartbeat stops: only a's pool counts.
    await db.proxyInstance.update({ where: { id: b.proxyId }, data: { heartbeatAt: new Date(Date.now() - 60_000) } });
    expect((await status(computeId)).pooling).toEqual({
      enabled: true,
      clientSessions: 5,
      serverConnections: { inUse: 3, idle: 1, limit: 60 },
      queue: { waiting: 2, longestWaitMs: 300, averageWaitMs: 100, timeouts: 1 },
    });

    // a's queue drains and its connections go idle; the next flush shows it.
    a.pool(computeId, snapshot({ serverInUse: 0, serverIdle: 4, serverLimit: 60, waits: 12, waitMsTotal: 1_800, timeouts: 1 }));
    await a.flush();
    expect((await status(computeId)).pooling).toMatchObject({
      serverConnections: { inUse: 0, idle: 4, limit: 60 },
      queue: { waiting: 0, longestWaitMs: 0, averageWaitMs: 150, timeouts: 1 },
    });
  });

  it("stores the switch given at create, and refuses a bad one before creating anything", async () => {
    const project = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name: "pooling at create" } });
    const create = (body: unknown) => call<{ compute: Record<string, unknown> }>("POST", `/api/v1/projects/${project.body.project.id}/compute`, { key: tenant.key, body });
    const bad = await create({ poolConnections: "off" });
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual(errorBody);
    expect(await db.compute.count({ where: { projectId: project.body.project.id } })).toBe(0);

    const created = await create({ poolConnections: false });
    expect(created.status).toBe(201);
    expect(created.body.compute).toMatchObject({ poolConnections: false, pooling: { enabled: false } });
    expect((await db.compute.findFirstOrThrow({ where: { projectId: project.body.project.id } })).poolConnections).toBe(false);
  });
});
