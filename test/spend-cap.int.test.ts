import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { spend, upgrade, type ErrorReply } from "./billing";
import { createProjectWithCompute, waitFor } from "./compute";
import { connectProxy, rejection } from "./proxy";
import { db } from "../server/db";
import { assertSpendCap, spendCapStatus } from "../server/billing/spend-cap";
import { recordSpendAlerts } from "../server/billing/spend-alerts";
import { PLANS } from "../server/billing/plans";

// The monthly spend cap through the API and the proxy: alerts at 80 and 100 % (once each per month), the
// computes suspended at 100 % with a 1226 that names the cap and how to raise it, lifted by raising the cap
// or by the month turning (the clock injected in-process where it must turn).

interface SpendCap {
  capUsd: number | null;
  spentUsd: number;
  threshold: 80 | 100 | null;
}
interface Operation {
  kind: string;
  actor: string;
  reason: string;
}

const setCap = (key: string, spendCapUsd: number | null) => call<{ billing: { spendCap: SpendCap } } & ErrorReply>("PATCH", "/api/v1/billing", { key, body: { spendCapUsd } });

async function operations(key: string, projectId: string): Promise<Operation[]> {
  const res = await call<{ operations: Operation[] }>("GET", `/api/v1/projects/${projectId}/operations`, { key });
  expect(res.status).toBe(200);
  return res.body.operations;
}

async function connectsAndAnswers(user: string, password: string): Promise<void> {
  const conn = await connectProxy(user, password);
  const [rows] = await conn.query("SELECT 1 AS ok");
  expect(rows).toEqual([{ ok: 1 }]);
  await conn.end();
}

describe("spend cap", () => {
  it("refuses a cap that is not an amount, with the field named", async () => {
    const tenant = await newTenant();
    for (const bad of [-5, 0, "ten", 1.234]) {
      const res = await setCap(tenant.key, bad as number);
      expect(res.status).toBe(422);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: "spendCapUsd" })]);
    }
    const empty = await call<ErrorReply>("PATCH", "/api/v1/billing", { key: tenant.key, body: {} });
    expect(empty.status).toBe(422);
    expect(empty.body.error.message).toMatch(/not valid|plan|spendCapUsd/);
  });

  it("refuses a cap at or below the plan's base price, and a plan change that would put the cap there", async () => {
    const tenant = await newTenant();
    await upgrade(tenant, "pro");
    const base = PLANS.pro.baseMonthly;
    for (const low of [base, base - 1]) {
      const res = await setCap(tenant.key, low);
      expect(res.status).toBe(422);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: "spendCapUsd" })]);
      expect(res.body.error.message).toContain(`$${base.toFixed(2)}`);
    }
    // Both at once are checked together: a downgrade to free with a $5 cap is fine, pro with $5 is not.
    const both = await call<ErrorReply>("PATCH", "/api/v1/billing", { key: tenant.key, body: { plan: "pro", spendCapUsd: 5 } });
    expect(both.status).toBe(422);

    // A cap above pro's base but below enterprise's: the upgrade is refused until the cap is raised or removed.
    const fromFree = await newTenant();
    expect((await setCap(fromFree.key, 5)).status).toBe(200);
    const upgradeRefused = await call<ErrorReply>("PATCH", "/api/v1/billing", { key: fromFree.key, body: { plan: "pro" } });
    expect(upgradeRefused.status).toBe(409);
    expect(upgradeRefused.body.error.message).toMatch(/spend cap of \$5\.00.*raise the cap.*or remove it/);
    expect(upgradeRefused.body.error.details).toEqual([expect.objectContaining({ path: "spendCapUsd" })]);
    expect((await db.organization.findUniqueOrThrow({ where: { id: fromFree.organizationId } })).plan).toBe("free");
    // Raised in the same request: allowed.
    const raised = await call<{ billing: { plan: string; spendCap: SpendCap } }>("PATCH", "/api/v1/billing", { key: fromFree.key, body: { plan: "pro", spendCapUsd: 50 } });
    expect(raised.status).toBe(200);
    expect(raised.body.billing).toMatchObject({ plan: "pro", spendCap: { capUsd: 50 } });
  });

  it("alerts at 80 % and at 100 % once each, suspends at 100 % (1226 names the cap) until it is raised or the month turns", async () => {
    const tenant = await newTenant();
    await upgrade(tenant, "pro");
    const c = await createProjectWithCompute(tenant);
    const pro = PLANS.pro;
    // Past the included CU-hours by 10: the month costs the base price plus 10 CU-hours.
    const intervalId = await spend(tenant.organizationId, pro.included.cuHours + 10);
    const expected = pro.baseMonthly + 10 * pro.prices.perCuHour;

    // A cap the spend is 80-99 % of: the billing reply says so, the log gets one alert, the compute runs on.
    const eighty = await setCap(tenant.key, 25);
    expect(eighty.status).toBe(200);
    expect(eighty.body.billing.spendCap).toMatchObject({ capUsd: 25, threshold: 80 });
    expect(eighty.body.billing.spendCap.spentUsd).toBeGreaterThanOrEqual(expected);
    await waitFor(async () => (await operations(tenant.key, c.projectId)).find((o) => o.kind === "spend_threshold"), 20_000, "the 80 % alert");
    expect((await db.compute.findUnique({ where: { id: c.computeId } }))?.state).toBe("running");

    // A cap the spend has passed: the scheduler suspends the compute, saying why, and alerts once more.
    expect((await setCap(tenant.key, 20)).body.billing.spendCap).toMatchObject({ capUsd: 20, threshold: 100 });
    await waitFor(async () => (await db.compute.findUnique({ where: { id: c.computeId } }))?.state === "suspended", 30_000, "suspend at the cap");
    const ops = await operations(tenant.key, c.projectId);
    const suspend = ops.find((o) => o.kind === "suspend_compute")!;
    expect(suspend).toMatchObject({ actor: "scheduler" });
    expect(suspend.reason).toMatch(/^quota: the organization has reached its monthly spend cap; .*raises the cap/);
    expect(suspend.reason).not.toMatch(/\$/); // members and viewers read the log: no amounts
    const alerts = ops.filter((o) => o.kind === "spend_threshold").map((o) => o.reason);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toMatch(/\(100 %\)/);
    expect(alerts[1]).toMatch(/reached 80 % of its monthly spend cap/);
    for (const alert of alerts) expect(alert).not.toMatch(/\$/); // members and viewers read the log: no amounts

    // Through the proxy: 1226 naming the cap and how to raise it; through the API: 402 naming the limit.
    const refused = await rejection(connectProxy(`${c.slug}.app`, c.password));
    expect(refused.errno).toBe(1226);
    expect(refused.message).toMatch(new RegExp(`project '${c.slug}'.*monthly spend cap of \\$20\\.00.*raise the cap.*Billing page.*spendCapUsd.*next month`));
    const api = await call<ErrorReply>("POST", `/api/v1/compute/${c.computeId}/resume`, { key: tenant.key });
    expect(api.status).toBe(402);
    expect(api.body.error.details).toEqual([expect.objectContaining({ limit: "spendCapUsd", max: 20 })]);

    // Ticks go by: still one alert per threshold this month.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await operations(tenant.key, c.projectId)).filter((o) => o.kind === "spend_threshold")).toHaveLength(2);

    // The month turns (clock injected): the cap no longer holds, and the new month alerts afresh, once.
    const now = new Date();
    const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 0, 5));
    const next = await spendCapStatus(tenant.organizationId, nextMonth);
    expect(next.spentUsd).toBe(pro.baseMonthly); // last month's CU-hours do not count
    expect(next.threshold).toBe(80); // the base price alone is 95 % of $20
    await expect(assertSpendCap(tenant.organizationId, nextMonth)).resolves.toBeUndefined();
    expect(await recordSpendAlerts(tenant.organizationId, next)).toEqual([80]);
    expect(await recordSpendAlerts(tenant.organizationId, next)).toEqual([]);

    // Through the proxy, the month turning is the spend moving to the last month: the wake works at once.
    const lastMonth = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, Math.min(d.getUTCDate(), 28), d.getUTCHours(), d.getUTCMinutes()));
    const interval = await db.usageEvent.findUniqueOrThrow({ where: { id: intervalId } });
    await db.usageEvent.update({ where: { id: intervalId }, data: { startedAt: lastMonth(interval.startedAt), endedAt: lastMonth(interval.endedAt!) } });
    await connectsAndAnswers(`${c.slug}.app`, c.password);

    // Spent again this month: suspended again; raising the cap lifts it at once.
    await db.usageEvent.update({ where: { id: intervalId }, data: { startedAt: interval.startedAt, endedAt: interval.endedAt } });
    await waitFor(async () => (await db.compute.findUnique({ where: { id: c.computeId } }))?.state === "suspended", 30_000, "suspend at the cap again");
    expect((await rejection(connectProxy(`${c.slug}.app`, c.password))).errno).toBe(1226);
    expect((await setCap(tenant.key, 100)).body.billing.spendCap).toMatchObject({ capUsd: 100, threshold: null });
    await connectsAndAnswers(`${c.slug}.app`, c.password);
    // Removing the cap: the reply says there is none.
    expect((await setCap(tenant.key, null)).body.billing.spendCap).toMatchObject({ capUsd: null, threshold: null });
  });
});
