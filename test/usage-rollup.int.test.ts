import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { createProjectWithCompute, waitFor } from "./compute";
import { connectProxy } from "./proxy";
import { sampleStorage } from "../server/usage/storage-sampling";
import { usedCuSecondsThisMonth } from "../server/quotas/quotas";
import { db } from "../server/db";
import { HOUR_MS, hourOf } from "../server/usage/metering";
import { recomputeHour, rolledRange, rollupClosedHours, rollupHour, ROLLUP_GRACE_MS } from "../server/usage/rollup";

// Rollups are idempotent: run twice, or by two replicas at once, an hour counts once; the usage API reads
// them (and CSV exports them).

describe("usage rollups", () => {
  it("counts an hour once however often and by however many replicas it is rolled up", async () => {
    const tenant = await newTenant();
    const organizationId = tenant.organizationId;
    // An hour just before the oldest one rolled up, so the rolled-up range stays contiguous.
    const range = await rolledRange();
    const hour = range ? range.from.getTime() - HOUR_MS : hourOf(Date.now()) - 2 * HOUR_MS;
    const H = (minutes: number) => new Date(hour + minutes * 60_000);
    const [a, b] = [`test-${crypto.randomUUID()}`, `test-${crypto.randomUUID()}`];
    await db.usageEvent.createMany({
      data: [
        { organizationId, computeId: a, state: "running", size: 0.5, startedAt: H(10), endedAt: H(40) }, // 0.25 CU-hours
        { organizationId, computeId: a, state: "paused", size: 0.5, startedAt: H(40), endedAt: null },
        { organizationId, computeId: b, state: "running", size: 1, startedAt: H(50), endedAt: null }, // open: 600 s in the hour
      ],
    });
    const expected = [
      { computeId: a, computeSeconds: 1800, cuSeconds: 900 },
      { computeId: b, computeSeconds: 600, cuSeconds: 600 },
    ];
    const rows = () =>
      db.usageHour.findMany({
        where: { organizationId },
        orderBy: { computeId: a < b ? "asc" : "desc" },
        select: { computeId: true, computeSeconds: true, cuSeconds: true, hourStart: true },
      });
    const month = () => db.usageMonth.findMany({ where: { organizationId }, select: { cuSeconds: true, computeSeconds: true } });

    // Twice in a row, then twice at once (two replicas): the same rows, the same month.
    for (let i = 0; i < 2; i++) await db.$transaction((tx) => recomputeHour(tx, new Date(hour), organizationId));
    await Promise.all([0, 1].map(() => db.$transaction((tx) => recomputeHour(tx, new Date(hour), organizationId))));
    expect((await rows()).map(({ hourStart, ...r }) => (expect(hourStart.getTime()).toBe(hour), r))).toEqual(expected);
    expect(await month()).toEqual([{ computeSeconds: 2400, cuSeconds: 1500 }]);

    // The scheduler's unit, one hour for everyone, on two replicas at once: one writes, the other finds it done.
    const results = await Promise.all([rollupHour(new Date(hour)), rollupHour(new Date(hour))]);
    expect(results.sort()).toEqual([false, true]);
    expect(await rollupHour(new Date(hour))).toBe(false);
    expect((await rows()).map(({ hourStart: _, ...r }) => r)).toEqual(expected);
    expect(await month()).toEqual([{ computeSeconds: 2400, cuSeconds: 1500 }]);

    // The month's quota reads the rollup too (when the hour is in this month).
    const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
    if (hour >= monthStart) expect((await usedCuSecondsThisMonth([organizationId])).get(organizationId)).toBeGreaterThanOrEqual(1500);

    // The usage API reads the rollup for that hour (a changed rollup shows), and exports it as CSV.
    const query = `from=${new Date(hour).toISOString()}&to=${new Date(hour + HOUR_MS).toISOString()}&granularity=hour`;
    const usage = await call<{ usage: { cuSeconds: number }[]; totals: { cuSeconds: number; computeSeconds: number } }>("GET", `/api/v1/usage?${query}`, { key: tenant.key });
    expect(usage.body.totals).toMatchObject({ computeSeconds: 2400, cuSeconds: 1500 });
    await db.usageHour.updateMany({ where: { organizationId, computeId: b }, data: { cuSeconds: 601 } });
    const reread = await call<{ totals: { cuSeconds: number } }>("GET", `/api/v1/usage?${query}`, { key: tenant.key });
    expect(reread.body.totals.cuSeconds).toBe(1501);

    const csv = await fetch(`${process.env.TEST_BASE_URL}/api/v1/usage?${query}&format=csv`, { headers: { authorization: `Bearer ${tenant.key}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect((await csv.text()).split("\r\n")).toEqual(["start,computeSeconds,cuSeconds,cuHours,storageBytes,bytesIn,bytesOut", `${new Date(hour).toISOString()},2400,1501,0.416944,,0,0`, ""]);
  });

  it("rolls up every closed hour up to the last one, as the scheduler does, from any replica", async () => {
    // This test process acts as one more replica beside the product's scheduler.
    const now = new Date();
    await rollupClosedHours(now);
    const lastClosed = hourOf(now.getTime()) - (now.getTime() - hourOf(now.getTime()) >= ROLLUP_GRACE_MS ? 0 : HOUR_MS);
    expect((await rolledRange())?.to.getTime()).toBe(lastClosed);
    expect(await rollupClosedHours(now)).toBe(0); // nothing left: a second run writes nothing
  });

  it("samples each compute's storage once an hour and shows it in the usage", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const sample = await waitFor(() => db.storageSample.findFirst({ where: { computeId: c.computeId } }), 20_000, "a storage sample");
    expect(Number(sample.bytes)).toBeGreaterThan(1_000_000); // a fresh data directory holds megabytes
    expect(sample.hourStart.getTime() % HOUR_MS).toBe(0);
    // Another sampler in the same hour (a replica) writes nothing more for it.
    await sampleStorage();
    expect(await db.storageSample.count({ where: { computeId: c.computeId } })).toBe(1);
    const usage = await call<{ usage: { storageBytes: number | null }[] }>("GET", `/api/v1/projects/${c.projectId}/usage?granularity=hour`, { key: tenant.key });
    expect(usage.body.usage.at(-1)?.storageBytes).toBe(Number(sample.bytes));
  });

  it("counts the bytes through the proxy both ways, flushed with the activity", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    const big = "x".repeat(200_000);
    await conn.query("SELECT ? AS v", [big]); // about 200 kB each way
    await conn.end();
    const row = await waitFor(
      async () => {
        const t = await db.transferHour.findFirst({ where: { computeId: c.computeId } });
        return t && t.bytesIn > 200_000n && t.bytesOut > 200_000n ? t : null;
      },
      10_000,
      "transfer flushed",
    );
    expect(row.organizationId).toBe(tenant.organizationId);
    expect(Number(row.bytesIn)).toBeLessThan(400_000);
    const usage = await call<{ totals: { bytesIn: number; bytesOut: number } }>("GET", `/api/v1/projects/${c.projectId}/usage?granularity=hour`, { key: tenant.key });
    expect(usage.body.totals.bytesIn).toBeGreaterThan(200_000);
    expect(usage.body.totals.bytesOut).toBeGreaterThan(200_000);
  });
});
