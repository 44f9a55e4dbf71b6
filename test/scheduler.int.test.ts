import { describe, expect, inject, it } from "vitest";
import { call, newTenant } from "./api";
import { connectDirect, createProjectWithCompute, mariadbdCount, pidOf, processAlive, waitFor } from "./compute";
import { connectProxy } from "./proxy";
import { db } from "../server/db";

// The scheduler (1 s ticks in the tests, MIN_SUSPEND_TIMEOUT_SECONDS=1) and the reconciler, watched from the
// outside through the API, the operations log and the processes.

interface Op {
  kind: string;
  actor: string;
  reason: string;
  status: string;
}

async function state(key: string, computeId: string): Promise<string> {
  const res = await call<{ compute: { state: string } }>("GET", `/api/v1/compute/${computeId}/status`, { key });
  return res.body.compute.state;
}

async function operations(key: string, projectId: string): Promise<Op[]> {
  return (await call<{ operations: Op[] }>("GET", `/api/v1/projects/${projectId}/operations`, { key })).body.operations;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stand-in for the billing page's upgrade (its API comes with the billing issue). */
async function onPaidPlan(organizationId: string): Promise<void> {
  await db.organization.update({ where: { id: organizationId }, data: { plan: "pro" } });
}

describe("scheduler: idle policy", () => {
  it("pauses an idle compute, then suspends it when it stays paused", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 2, coldAfterSeconds: 4 });
    await waitFor(async () => (await state(tenant.key, c.computeId)) === "paused", 10_000, "the compute to pause");
    const pid = pidOf(inject("dataDir"), c.computeId)!;
    expect(processAlive(pid)).toBe(true); // warm: frozen, not gone
    await waitFor(async () => (await state(tenant.key, c.computeId)) === "suspended", 15_000, "the compute to go cold");
    expect(mariadbdCount(inject("dataDir"), c.computeId)).toBe(0);

    const ops = await operations(tenant.key, c.projectId);
    expect(ops.map((o) => o.kind)).toEqual(["suspend_compute", "pause_compute", "create_compute"]);
    expect(ops[1]).toMatchObject({ actor: "scheduler", status: "succeeded", reason: expect.stringMatching(/^idle for \d+ s with no connections$/) });
    // Never woken: the adaptive rule sends it cold sooner than the configured 4 s, and says so.
    expect(ops[0]).toMatchObject({ actor: "scheduler", reason: expect.stringMatching(/^paused for \d+ s, went cold \(adaptive: rarely used, woken 0 times in 24 h, cold after 1 s instead of 4 s\)$/) });

    // and the next connection wakes it with all its data
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    expect((await conn.query("SELECT 1 AS ok"))[0]).toEqual([{ ok: 1 }]);
    await conn.end();
  });

  it("keeps a compute with a connection through the proxy running when its sessions do not park", async () => {
    const tenant = await newTenant();
    await onPaidPlan(tenant.organizationId); // never going cold needs a paid plan
    // With parking on, an idle session parks and no longer keeps the compute awake (test/proxy-parking).
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 2, coldAfterSeconds: 0 });
    const off = await call("PATCH", `/api/v1/compute/${c.computeId}`, { key: tenant.key, body: { parkIdleSessions: false } });
    expect(off.status).toBe(200);
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    await sleep(5000);
    expect(await state(tenant.key, c.computeId)).toBe("running");
    expect((await conn.query("SELECT 2 AS n"))[0]).toEqual([{ n: 2 }]);
    await conn.end();
    await waitFor(async () => (await state(tenant.key, c.computeId)) === "paused", 10_000, "the pause once the client left");
    await sleep(3000);
    expect(await state(tenant.key, c.computeId)).toBe("paused"); // coldAfterSeconds 0: never goes cold
  });

  it("keeps a compute with a session made straight to it running", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 2 });
    const direct = await connectDirect(c.endpoint, c.password);
    await sleep(5000);
    expect(await state(tenant.key, c.computeId)).toBe("running");
    expect((await direct.query("SELECT 3 AS n"))[0]).toEqual([{ n: 3 }]);
    await direct.end();
    await waitFor(async () => (await state(tenant.key, c.computeId)) === "paused", 10_000, "the pause once the session closed");
  });

  it("never pauses a compute twice when schedulers race", async () => {
    const tenant = await newTenant();
    await onPaidPlan(tenant.organizationId);
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 3600, coldAfterSeconds: 0 });
    // Make it look idle for long, then let three schedulers (two here, the app's own) decide at once.
    await db.compute.update({
      where: { id: c.computeId },
      data: { suspendTimeoutSeconds: 60, stateChangedAt: new Date(Date.now() - 3_600_000), lastActiveAt: null },
    });
    // Each with its own work pool, as separate replicas have.
    const { pauseIdleComputes } = await import("../server/scheduler/idle");
    const { WorkPool } = await import("../server/scheduler/work-pool");
    const pools = [1, 2, 3].map(() => new WorkPool({ concurrency: 4, deadlineMs: 30_000 }));
    await Promise.all(pools.map((pool) => pauseIdleComputes(pool)));
    await Promise.all(pools.map((pool) => pool.drain()));
    await sleep(2500);
    const pauses = (await operations(tenant.key, c.projectId)).filter((o) => o.kind === "pause_compute");
    expect(pauses).toHaveLength(1);
    expect(await state(tenant.key, c.computeId)).toBe("paused");
  });
});

describe("reconciler", () => {
  it("finishes a resume that a crashed replica left half-done", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 0 });
    await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });
    // What a replica leaves when it dies right after winning the compare-and-set into `resuming`.
    const row = await db.compute.findUniqueOrThrow({ where: { id: c.computeId }, include: { project: true } });
    await db.$transaction([
      db.compute.update({ where: { id: c.computeId }, data: { state: "resuming", version: { increment: 1 }, leaseUntil: new Date(Date.now() - 1000) } }),
      db.operation.create({
        data: { organizationId: row.project.organizationId, projectId: row.projectId, computeId: row.id, kind: "resume_compute", actor: "proxy", reason: "woken by the proxy for app@10.0.0.9" },
      }),
    ]);
    await waitFor(async () => (await state(tenant.key, c.computeId)) === "running", 10_000, "the reconciler to finish the resume");
    expect(mariadbdCount(inject("dataDir"), c.computeId)).toBe(1);
    const ops = await operations(tenant.key, c.projectId);
    expect(ops[0]).toMatchObject({ kind: "resume_compute", status: "succeeded" });
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    await conn.query("SELECT 1");
    await conn.end();
  });

  it("restarts a crashed compute, and marks it failed after repeated crashes", async () => {
    const tenant = await newTenant();
    const dataDir = inject("dataDir");
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 0 });
    for (let crash = 1; crash <= 2; crash++) {
      const pid = pidOf(dataDir, c.computeId)!;
      process.kill(pid, "SIGKILL");
      await waitFor(async () => {
        const next = pidOf(dataDir, c.computeId);
        return (await state(tenant.key, c.computeId)) === "running" && next !== pid && next !== null && processAlive(next);
      }, 10_000, `restart after crash ${crash}`);
    }
    process.kill(pidOf(dataDir, c.computeId)!, "SIGKILL");
    await waitFor(async () => (await state(tenant.key, c.computeId)) === "failed", 10_000, "the compute to be marked failed");
    const ops = await operations(tenant.key, c.projectId);
    expect(ops[0]).toMatchObject({ kind: "fail_compute", actor: "reconciler", reason: "the process crashed 3 times; not restarting it again" });
    expect(ops.filter((o) => o.kind === "restart_compute")).toHaveLength(2);
    // A person can bring it back.
    const resumed = await call<{ compute: { state: string } }>("POST", `/api/v1/compute/${c.computeId}/resume`, { key: tenant.key });
    expect(resumed.body.compute.state).toBe("running");
  });
});
