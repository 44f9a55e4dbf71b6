import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActivityReporter, type ActivityStore, type ActivityReporterOptions } from "@/proxy/activity-reporter";
import { call, newTenant, type Tenant } from "@/test/api";
import { db, disconnectDb } from "../db";
import {
  heartbeat,
  liveActivity,
  liveProxies,
  pruneDeadProxies,
  registerProxyInstance,
  reportActivity,
  unregisterProxyInstance,
} from "./index";
import { NO_POOL_ACTIVITY } from "./live-activity";

// Proxies report open connections per compute and the last activity; the control plane sums the connections
// of live proxies only, keeps every proxy's last activity, and shows both in the compute reply.

const rand = () => crypto.randomBytes(5).toString("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let tenant: Tenant;
const reporters: ActivityReporter[] = [];
const proxyIds: string[] = [];

/** A project and a compute row of the tenant, made directly (suspended, so the reconciler leaves it alone). */
async function newCompute(): Promise<string> {
  const slug = `act-${rand()}`;
  const project = await db.project.create({ data: { organizationId: tenant.organizationId, slug, name: slug } });
  const compute = await db.compute.create({ data: { projectId: project.id, state: "suspended" } });
  return compute.id;
}

function reporter(options: Partial<ActivityReporterOptions> = {}): ActivityReporter {
  const r = new ActivityReporter({ proxyId: `test-${rand()}`, host: "test-host", version: "test", intervalMs: 50, heartbeatMs: 100, ...options });
  reporters.push(r);
  proxyIds.push(r.proxyId);
  return r;
}

interface StatusReply {
  activeConnections: number;
  lastActiveAt: string | null;
  sessions: { active: number; parked: number; pinned: number; pins: { reason: string; sessions: number; idleSeconds: number }[] };
}

async function status(computeId: string) {
  const res = await call<{ compute: StatusReply }>("GET", `/api/v1/compute/${computeId}/status`, {
    key: tenant.key,
  });
  expect(res.status).toBe(200);
  return res.body.compute;
}

/** What liveActivity says of a compute no live proxy reports. */
const nothing = { connections: 0, lastActiveAt: null, parked: 0, pinned: 0, pins: [], pool: NO_POOL_ACTIVITY };

const rows = (computeId: string) => db.proxyActivity.findMany({ where: { computeId }, orderBy: { proxyId: "asc" } });
const computeRow = (computeId: string) => db.compute.findUniqueOrThrow({ where: { id: computeId } });

async function eventually(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(25);
  }
}

beforeAll(async () => {
  tenant = await newTenant();
});

afterAll(async () => {
  await Promise.all(reporters.map((r) => r.stop()));
  await db.proxyInstance.deleteMany({ where: { id: { in: proxyIds } } });
  await db.organization.deleteMany({ where: { id: tenant?.organizationId } });
  await disconnectDb();
});

describe("proxy activity", () => {
  it("sums live proxies' connections, keeps dead proxies' last activity, and shows both in the compute reply", async () => {
    const computeId = await newCompute();
    expect(await liveActivity([computeId])).toEqual(new Map([[computeId, nothing]]));

    const a = reporter();
    // b heartbeats rarely, so the test can make its heartbeat stale without it being refreshed.
    const b = reporter({ heartbeatMs: 600_000 });
    await Promise.all([a.start(), b.start()]);
    expect((await liveProxies()).map((p) => p.id)).toEqual(expect.arrayContaining([a.proxyId, b.proxyId]));
    const instance = (await liveProxies()).find((p) => p.id === a.proxyId)!;
    expect(instance).toMatchObject({ host: "test-host", pid: process.pid, version: "test" });
    expect(instance.heartbeatAt).toBeInstanceOf(Date);
    expect(Math.abs(instance.heartbeatAt.getTime() - Date.now())).toBeLessThan(5_000);

    // Two proxies, three connections to one compute.
    a.opened(computeId);
    a.opened(computeId);
    b.opened(computeId);
    await Promise.all([a.flush(), b.flush()]);
    let activity = (await liveActivity([computeId])).get(computeId)!;
    expect(activity.connections).toBe(3);
    expect(activity.lastActiveAt).toBeInstanceOf(Date);
    expect(await status(computeId)).toMatchObject({ activeConnections: 3, lastActiveAt: activity.lastActiveAt!.toISOString() });

    // The last activity comes through b; then b stops heartbeating (it died).
    await sleep(20);
    const bTouched = Date.now();
    b.touch(computeId);
    await b.flush();
    await db.proxyInstance.update({ where: { id: b.proxyId }, data: { heartbeatAt: new Date(Date.now() - 60_000) } });
    expect((await liveProxies()).map((p) => p.id)).not.toContain(b.proxyId);
    activity = (await liveActivity([computeId])).get(computeId)!;
    expect(activity.connections).toBe(2); // b's connection is gone with b
    expect(activity.lastActiveAt!.getTime()).toBeGreaterThanOrEqual(bTouched); // its activity still happened
    expect((await status(computeId)).activeConnections).toBe(2);

    // All of a's connections close: 0 connections, and the close is the last activity; the rows stay.
    await sleep(20);
    const closedAt = Date.now();
    a.closed(computeId);
    a.closed(computeId);
    await eventually(async () => (await liveActivity([computeId])).get(computeId)!.connections === 0); // the timer flushes
    activity = (await liveActivity([computeId])).get(computeId)!;
    expect(activity.lastActiveAt!.getTime()).toBeGreaterThanOrEqual(closedAt);
    expect((await rows(computeId)).map((r) => r.connections)).toEqual(
      [a.proxyId, b.proxyId].sort().map((id) => (id === a.proxyId ? 0 : 1)),
    );
    expect(await status(computeId)).toMatchObject({ activeConnections: 0, lastActiveAt: activity.lastActiveAt!.toISOString() });

    // The compute row's own lastActiveAt followed, and never moves back.
    const compute = await computeRow(computeId);
    expect(compute.lastActiveAt?.getTime()).toBe(activity.lastActiveAt!.getTime());
    expect(compute.version).toBe(0); // activity is not a transition
    await reportActivity(a.proxyId, [{ computeId, connections: 0, lastActiveAt: new Date(Date.now() - 3_600_000) }]);
    expect((await computeRow(computeId)).lastActiveAt?.getTime()).toBe(activity.lastActiveAt!.getTime());
    expect((await liveActivity([computeId])).get(computeId)!.lastActiveAt?.getTime()).toBe(activity.lastActiveAt!.getTime());

    // Unregistering (a proxy's stop) removes its rows; the compute keeps its last activity (b still had a
    // connection open, so its stop is the latest activity).
    await a.stop();
    await b.stop();
    expect(await db.proxyInstance.count({ where: { id: { in: [a.proxyId, b.proxyId] } } })).toBe(0);
    expect(await rows(computeId)).toEqual([]);
    expect(await liveActivity([computeId])).toEqual(new Map([[computeId, nothing]]));
    const last = (await computeRow(computeId)).lastActiveAt!;
    expect(last.getTime()).toBeGreaterThanOrEqual(activity.lastActiveAt!.getTime());
    expect(await status(computeId)).toMatchObject({ activeConnections: 0, lastActiveAt: last.toISOString() });
  });

  it("reports parked and pinned sessions summed over live proxies in the compute status, and held threads per proxy", async () => {
    const computeId = await newCompute();
    expect((await status(computeId)).sessions).toEqual({ active: 0, parked: 0, pinned: 0, pins: [] });
    const a = reporter({ intervalMs: 60_000 });
    const b = reporter({ intervalMs: 60_000, heartbeatMs: 600_000 });
    await Promise.all([a.start(), b.start()]);

    // a: four sessions, two parked, one pinned by an open transaction idle for two hours.
    for (let i = 0; i < 4; i++) a.opened(computeId);
    a.parked(computeId);
    a.parked(computeId);
    a.pinned(computeId, 1, ["open transaction"], Date.now() - 2 * 3600_000);
    a.idleServerConnections(computeId, [41, 40]);
    // b: two sessions, one parked, one pinned by a transaction and a temporary table, idle a minute.
    b.opened(computeId);
    b.opened(computeId);
    b.parked(computeId);
    b.pinned(computeId, 2, ["open transaction", "temporary table"], Date.now() - 60_000);
    await Promise.all([a.flush(), b.flush()]);

    let reply = await status(computeId);
    expect(reply.activeConnections).toBe(3); // active + pinned: a's 2 attached, b's 1
    expect(reply.sessions).toMatchObject({ active: 1, parked: 3, pinned: 2 });
    expect(reply.sessions.pins.map((p) => [p.reason, p.sessions])).toEqual([
      ["open transaction", 2],
      ["temporary table", 1],
    ]);
    // The longest idle of the pinned sessions: two hours (give or take the test's own run time).
    expect(reply.sessions.pins[0]!.idleSeconds).toBeGreaterThanOrEqual(7200);
    expect(reply.sessions.pins[0]!.idleSeconds).toBeLessThan(7200 + 300);
    expect((await rows(computeId)).find((r) => r.proxyId === a.proxyId)?.idleThreadIds).toEqual([40, 41]);

    // b dies: its sessions no longer count.
    await db.proxyInstance.update({ where: { id: b.proxyId }, data: { heartbeatAt: new Date(Date.now() - 60_000) } });
    reply = await status(computeId);
    expect(reply.sessions).toMatchObject({ active: 1, parked: 2, pinned: 1, pins: [{ reason: "open transaction", sessions: 1 }] });

    // The transaction commits and the session parks; the pooled threads are lent out.
    a.pinned(computeId, 1, null);
    a.parked(computeId);
    a.idleServerConnections(computeId, []);
    await a.flush();
    expect((await status(computeId)).sessions).toEqual({ active: 1, parked: 3, pinned: 0, pins: [] });
    expect((await rows(computeId)).find((r) => r.proxyId === a.proxyId)?.idleThreadIds).toEqual([]);
  });

  it("stop() writes the end of open connections as activity before unregistering", async () => {
    const computeId = await newCompute();
    const r = reporter({ intervalMs: 60_000 });
    await r.start();
    r.opened(computeId);
    await r.flush();
    const before = Date.now();
    await sleep(10);
    await r.stop();
    expect(await rows(computeId)).toEqual([]);
    expect((await computeRow(computeId)).lastActiveAt!.getTime()).toBeGreaterThan(before);
  });

  it("forgets computes idle for a while, after reporting them once more", async () => {
    const computeId = await newCompute();
    const r = reporter({ forgetAfterMs: 300, intervalMs: 60_000 });
    await r.start();
    r.touch(computeId);
    await r.flush();
    expect(await rows(computeId)).toHaveLength(1);
    expect(r.trackedComputes).toBe(1);
    await sleep(350);
    await r.flush();
    expect(r.trackedComputes).toBe(0);
    expect(await rows(computeId)).toEqual([]);
    expect((await computeRow(computeId)).lastActiveAt).not.toBeNull();

    // An open connection is never forgotten.
    r.opened(computeId);
    await r.flush();
    await sleep(350);
    await r.flush();
    expect(r.trackedComputes).toBe(1);
    expect((await liveActivity([computeId])).get(computeId)!.connections).toBe(1);
  });

  it("retries failed writes and registers again after being pruned", async () => {
    const computeId = await newCompute();
    let failing = true;
    const store: ActivityStore = {
      registerProxyInstance,
      heartbeat,
      unregisterProxyInstance,
      reportActivity: async (...args) => {
        if (failing) throw new Error("database unavailable (test)");
        return reportActivity(...args);
      },
    };
    const r = reporter({ store, intervalMs: 60_000 });
    await r.start();
    r.opened(computeId);
    await expect(r.flush()).resolves.toBeUndefined();
    expect((await liveActivity([computeId])).get(computeId)!.connections).toBe(0);
    failing = false;
    await r.flush();
    expect((await liveActivity([computeId])).get(computeId)!.connections).toBe(1);

    // The row is pruned (as after a long silence): the next heartbeat registers again and reports anew.
    await db.proxyInstance.delete({ where: { id: r.proxyId } });
    expect(await rows(computeId)).toEqual([]);
    await eventually(async () => (await db.proxyInstance.count({ where: { id: r.proxyId } })) === 1);
    await r.flush();
    expect((await liveActivity([computeId])).get(computeId)!.connections).toBe(1);
  });

  it("prunes dead proxies and the rows of deleted computes", async () => {
    const computeId = await newCompute();
    const live = `test-${rand()}`;
    const dead = `test-${rand()}`;
    proxyIds.push(live, dead);
    await registerProxyInstance({ id: live, host: "h", pid: 1 });
    await registerProxyInstance({ id: dead, host: "h", pid: 2, version: "v" });
    expect(await heartbeat(dead)).toBe(true);
    const at = new Date();
    await reportActivity(live, [{ computeId, connections: 1, lastActiveAt: at }]);
    await reportActivity(dead, [{ computeId, connections: 2, lastActiveAt: at }]);
    await reportActivity(live, [{ computeId: `gone-${rand()}`, connections: 1, lastActiveAt: at }]); // no such compute
    await db.proxyInstance.update({ where: { id: dead }, data: { heartbeatAt: new Date(Date.now() - 3_600_000) } });

    // The product's own scheduler prunes too (every tick), so this call may find the work already done:
    // what counts is what is left afterwards.
    await pruneDeadProxies(30 * 60_000);
    expect(await db.proxyInstance.findMany({ where: { id: { in: [live, dead] } }, select: { id: true } })).toEqual([{ id: live }]);
    expect(await db.proxyActivity.findMany({ where: { proxyId: live }, select: { computeId: true } })).toEqual([{ computeId }]);
    expect(await heartbeat(dead)).toBe(false);
    await unregisterProxyInstance(live);
    await unregisterProxyInstance(live); // idempotent
    expect(await rows(computeId)).toEqual([]);
  });

  it("gives proxies distinct slots, also when they register at once, and keeps a free preferred one", async () => {
    const ids = Array.from({ length: 8 }, () => `test-${rand()}`);
    proxyIds.push(...ids);
    const slots = await Promise.all(ids.map((id, i) => registerProxyInstance({ id, host: "h", pid: i })));
    expect(new Set(slots).size).toBe(ids.length);
    // Registering again keeps the slot; after being pruned, the proxy asks for its old slot back and gets it.
    expect(await registerProxyInstance({ id: ids[0]!, host: "h", pid: 0 })).toBe(slots[0]);
    await unregisterProxyInstance(ids[1]!);
    expect(await registerProxyInstance({ id: ids[1]!, host: "h", pid: 1, preferredSlot: slots[1] })).toBe(slots[1]);
    for (const id of ids) await unregisterProxyInstance(id);
  });
});
