import { describe, expect, inject, it } from "vitest";
import { call, newTenant } from "./api";
import { createProjectWithCompute, mariadbdCount, stateAfterThaw, waitFor, type CreatedCompute } from "./compute";
import { connectProxy, rejection } from "./proxy";
import { db } from "../server/db";

// Waking on connect: a paused compute is thawed, a suspended one started, once for any number of clients.

interface Op {
  kind: string;
  actor: string;
  reason: string;
  status: string;
}

async function operations(key: string, projectId: string): Promise<Op[]> {
  const res = await call<{ operations: Op[] }>("GET", `/api/v1/projects/${projectId}/operations`, { key });
  return res.body.operations;
}

/** 20 clients at once each insert a row through the proxy: the compute is running after, with all 20 rows. */
async function herdOfInserts(c: CreatedCompute): Promise<void> {
  await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const conn = await connectProxy(`${c.slug}.app`, c.password);
      await conn.query("INSERT INTO hits VALUES (?)", [i]);
      await conn.end();
    }),
  );
  expect(await stateAfterThaw(async () => (await db.compute.findUniqueOrThrow({ where: { id: c.computeId } })).state)).toBe("running");
  const check = await connectProxy(`${c.slug}.app`, c.password);
  const [rows] = await check.query("SELECT COUNT(*) AS n FROM hits");
  expect(rows).toEqual([{ n: 20 }]);
  await check.end();
}

describe("proxy: wake on connect", () => {
  it("starts a suspended compute once for 50 simultaneous clients", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const setup = await connectProxy(`${c.slug}.app`, c.password);
    await setup.query("CREATE TABLE hits (n INT)");
    await setup.end();
    await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });

    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const conn = await connectProxy(`${c.slug}.app`, c.password);
        await conn.query("INSERT INTO hits VALUES (?)", [i]);
        await conn.end();
        return i;
      }),
    );
    expect(results).toHaveLength(50);
    const check = await connectProxy(`${c.slug}.app`, c.password);
    const [rows] = await check.query("SELECT COUNT(*) AS n FROM hits");
    expect(rows).toEqual([{ n: 50 }]);
    await check.end();

    const resumes = (await operations(tenant.key, c.projectId)).filter((o) => o.kind === "resume_compute");
    expect(resumes).toHaveLength(1);
    expect(resumes[0]).toMatchObject({ actor: "proxy", status: "succeeded", reason: "woken by the proxy for app@127.0.0.1" });
    expect(mariadbdCount(inject("dataDir"), c.computeId)).toBe(1);

    // Every client that waited is recorded as it saw it: it found the compute suspended (cold), or, on
    // another proxy worker, a wake already under way (joined); never warm. Records are written off the
    // data path, so give them a moment.
    await waitFor(() => db.wakeEvent.findFirst({ where: { computeId: c.computeId } }), 5000, "a wake record");
    await new Promise((r) => setTimeout(r, 500));
    const wakes = await db.wakeEvent.findMany({ where: { computeId: c.computeId } });
    expect(wakes.some((w) => w.kind === "cold" && w.fromState === "suspended")).toBe(true);
    expect(wakes.every((w) => ["cold", "joined"].includes(w.kind) && w.role === "app" && w.durationMs > 0)).toBe(true);
    expect(wakes.every((w) => /127\.0\.0\.1/.test(w.clientAddress))).toBe(true);
  });

  it("thaws a paused compute", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    expect(await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" })).not.toBeNull();
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    const [rows] = await conn.query("SELECT 1 AS ok");
    expect(rows).toEqual([{ ok: 1 }]);
    await conn.end();
    expect(await stateAfterThaw(async () => (await db.compute.findUniqueOrThrow({ where: { id: c.computeId } })).state)).toBe("running");
    const ops = await operations(tenant.key, c.projectId);
    expect(ops[0]).toMatchObject({ kind: "resume_compute", actor: "proxy" });
    expect(ops[1]).toMatchObject({ kind: "pause_compute" });
    const wake = await waitFor(() => db.wakeEvent.findFirst({ where: { computeId: c.computeId } }), 5000, "a wake record");
    expect(wake).toMatchObject({ kind: "warm", fromState: "paused", role: "app" });
  });

  // Without parking, a new client's connect itself wakes the compute, and goes on as soon as the thawed
  // server answers (the thaw's commit is checked after): every client of a herd is served by the one thaw.
  it("thaws a paused compute that does not park once for 20 simultaneous clients, each answered by the thawed server", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { parkIdleSessions: false });
    const setup = await connectProxy(`${c.slug}.app`, c.password);
    await setup.query("CREATE TABLE hits (n INT)");
    await setup.end();
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    const paused = async () => {
      for (let attempt = 0; attempt < 40; attempt++) {
        await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" });
        if ((await db.compute.findUniqueOrThrow({ where: { id: c.computeId } })).state === "paused") return;
        await new Promise((r) => setTimeout(r, 50)); // the setup connection may still be counted
      }
      throw new Error("the compute does not stay paused");
    };
    await paused();

    await herdOfInserts(c);
    const ops = await operations(tenant.key, c.projectId);
    // (A pause that found the setup session still counted undid itself: its own resume, by the operator.)
    expect(ops.filter((o) => o.kind === "resume_compute" && o.actor === "proxy")).toEqual([expect.objectContaining({ status: "succeeded" })]);
    expect(mariadbdCount(inject("dataDir"), c.computeId)).toBe(1);
    await waitFor(() => db.wakeEvent.findFirst({ where: { computeId: c.computeId, kind: "warm" } }), 5000, "a warm wake record");
  });

  // The same for a start: each client goes on once the new server is set up (database, roles, CPU limit),
  // while `running` is recorded.
  it("starts a suspended compute that does not park once for 20 simultaneous clients, each answered by the new server", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { parkIdleSessions: false });
    const setup = await connectProxy(`${c.slug}.app`, c.password);
    await setup.query("CREATE TABLE hits (n INT)");
    await setup.end();
    await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });

    await herdOfInserts(c);
    const resumes = (await operations(tenant.key, c.projectId)).filter((o) => o.kind === "resume_compute");
    expect(resumes).toEqual([expect.objectContaining({ actor: "proxy", status: "succeeded" })]);
    expect(mariadbdCount(inject("dataDir"), c.computeId)).toBe(1);
  });

  it("gives a compute that is deleted, failed, or over its quota its own clear error", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });

    await db.organization.update({ where: { id: tenant.organizationId }, data: { cuHoursQuota: 0 } });
    const quota = await rejection(connectProxy(`${c.slug}.app`, c.password));
    expect(quota.errno).toBe(1226);
    expect(quota.message).toMatch(new RegExp(`project '${c.slug}'.*CU-hours.*upgrade the plan`));
    const api = await call<{ error: { code: string } }>("POST", `/api/v1/compute/${c.computeId}/resume`, { key: tenant.key });
    expect(api.status).toBe(402);
    expect(api.body.error.code).toBe("quota_exceeded");
    await db.organization.update({ where: { id: tenant.organizationId }, data: { cuHoursQuota: null } });

    await db.compute.update({ where: { id: c.computeId }, data: { state: "failed", failureReason: "crashed repeatedly" } });
    const failed = await rejection(connectProxy(`${c.slug}.app`, c.password));
    expect(failed.message).toMatch(new RegExp(`compute of project '${c.slug}' has failed \\(crashed repeatedly\\); resume it`));

    // A delete in progress on a live replica (its lease is current, so the reconciler leaves it alone).
    await db.compute.update({ where: { id: c.computeId }, data: { state: "deleting", leaseUntil: new Date(Date.now() + 60_000) } });
    const deleting = await rejection(connectProxy(`${c.slug}.app`, c.password));
    expect(deleting.message).toMatch(/is being deleted/);
    await db.compute.update({ where: { id: c.computeId }, data: { state: "suspended", failureReason: null, leaseUntil: null } });

    const empty = await call<{ project: { id: string; slug: string } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name: "empty" } });
    const role = await call<{ password: string }>("POST", `/api/v1/projects/${empty.body.project.id}/roles`, { key: tenant.key, body: { name: "app" } });
    const none = await rejection(connectProxy(`${empty.body.project.slug}.app`, role.body.password));
    expect(none.message).toMatch(/has no compute yet; create one/);
  });
});
