import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { spend, upgrade, type ErrorReply } from "./billing";
import { createProjectWithCompute, waitFor } from "./compute";
import { connectProxy, rejection } from "./proxy";
import { db } from "../server/db";

// Plans and quotas through the API (402 naming the limit and the plan that lifts it) and through the proxy
// (1226 saying how to go on), and the upgrade that lifts them at once.

describe("plans: limits and quotas", () => {
  it("answers 402 past the free plan's projects and compute size, naming the limit and the pro plan; an upgrade lifts them", async () => {
    const tenant = await newTenant();
    const first = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name: "p0" } });
    expect(first.status).toBe(201);

    const big = await call<ErrorReply>("POST", `/api/v1/projects/${first.body.project.id}/compute`, { key: tenant.key, body: { size: 4 } });
    expect(big.status).toBe(402);
    expect(big.body.error.code).toBe("quota_exceeded");
    expect(big.body.error.message).toMatch(/free plan allows computes of at most 2 CU.*pro plan/);
    expect(big.body.error.details).toEqual([expect.objectContaining({ path: "size", limit: "maxComputeSize", max: 2, currentPlan: "free", plan: "pro" })]);

    for (let i = 1; i < 10; i++) {
      const res = await call("POST", "/api/v1/projects", { key: tenant.key, body: { name: `p${i}` } });
      expect(res.status).toBe(201);
    }
    const over = await call<ErrorReply>("POST", "/api/v1/projects", { key: tenant.key, body: { name: "p10" } });
    expect(over.status).toBe(402);
    expect(over.body.error.message).toMatch(/free plan allows 10 projects.*pro plan/);
    expect(over.body.error.details).toEqual([expect.objectContaining({ limit: "projects", max: 10, currentPlan: "free", plan: "pro" })]);

    const billing = await call<{ billing: { limits: Record<string, unknown>; usage: Record<string, unknown>; plans: { name: string }[] } }>("GET", "/api/v1/billing", { key: tenant.key });
    expect(billing.body.billing.limits).toMatchObject({ projects: 10, maxComputeSize: 2, cuHoursPerMonth: 100 });
    expect(billing.body.billing.usage).toMatchObject({ projects: 10 });
    expect(billing.body.billing.plans.map((p) => p.name)).toEqual(["free", "pro", "enterprise"]);

    await upgrade(tenant, "pro");
    expect((await call("POST", "/api/v1/projects", { key: tenant.key, body: { name: "p10" } })).status).toBe(201);

    // Back to free only once the organization fits it again.
    const down = await call<ErrorReply>("PATCH", "/api/v1/billing", { key: tenant.key, body: { plan: "free" } });
    expect(down.status).toBe(409);
    expect(down.body.error.details).toEqual([expect.objectContaining({ limit: "projects", max: 10, current: 11 })]);
    expect((await call("DELETE", `/api/v1/projects/${first.body.project.id}`, { key: tenant.key })).status).toBe(200);
    await upgrade(tenant, "free");
  });

  it("suspends a free organization's computes once its CU-hours are used; the proxy refuses with 1226 until an upgrade", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    await spend(tenant.organizationId, 150);

    // The scheduler notices within a tick or two and suspends through the lifecycle, saying why.
    await waitFor(async () => (await db.compute.findUnique({ where: { id: c.computeId } }))?.state === "suspended", 30_000, "quota suspend");
    const ops = await call<{ operations: { kind: string; actor: string; reason: string }[] }>("GET", `/api/v1/projects/${c.projectId}/operations`, { key: tenant.key });
    expect(ops.body.operations[0]).toMatchObject({ kind: "suspend_compute", actor: "scheduler" });
    expect(ops.body.operations[0].reason).toMatch(/^quota: .*100 CU-hours.*upgrade the plan to pro/);

    const refused = await rejection(connectProxy(`${c.slug}.app`, c.password));
    expect(refused.errno).toBe(1226);
    expect(refused.message).toMatch(new RegExp(`project '${c.slug}'.*100 CU-hours.*upgrade the plan to pro.*Billing page.*next month`));
    const api = await call<ErrorReply>("POST", `/api/v1/compute/${c.computeId}/resume`, { key: tenant.key });
    expect(api.status).toBe(402);
    expect(api.body.error.details).toEqual([expect.objectContaining({ limit: "cuHoursPerMonth", currentPlan: "free", plan: "pro" })]);
    type Spend = { usage: { cuHours: number }; charges: { totalUsd: number; computeUsd: number } };
    const billing = await call<{ billing: { quotaExceeded: boolean; spend: { monthToDate: Spend } } }>("GET", "/api/v1/billing", { key: tenant.key });
    expect(billing.body.billing.quotaExceeded).toBe(true);
    expect(billing.body.billing.spend.monthToDate.usage.cuHours).toBeGreaterThanOrEqual(150);
    expect(billing.body.billing.spend.monthToDate.charges.totalUsd).toBe(0); // free is bounded, never billed

    // Upgrading lifts it at once: the next connection wakes the compute.
    await upgrade(tenant, "pro");
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    const [rows] = await conn.query("SELECT 1 AS ok");
    expect(rows).toEqual([{ ok: 1 }]);
    await conn.end();
    // The proxy recorded the wake as the client saw it (written off the data path: give it a moment).
    const wakes = await waitFor(async () => {
      const res = await call<{ wakes: Record<string, unknown>[] }>("GET", `/api/v1/projects/${c.projectId}/wakes`, { key: tenant.key });
      return res.body.wakes.length > 0 ? res.body.wakes : null;
    }, 5000, "a wake record");
    expect(wakes[0]).toMatchObject({ computeId: c.computeId, fromState: "suspended", kind: "cold", role: "app" });
    expect(wakes[0]!.clientAddress).toMatch(/127\.0\.0\.1/);
    expect(wakes[0]!.durationMs).toBeGreaterThan(0);
    // A pro organization past its included hours is billed, not suspended: the scheduler leaves it running.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await db.compute.findUnique({ where: { id: c.computeId } }))?.state).toBe("running");
  });
});
