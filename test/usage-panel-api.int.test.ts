import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { createProjectWithCompute, waitFor } from "./compute";
import { connectProxy } from "./proxy";
import { db } from "../server/db";
import { rolledRange } from "../server/usage/rollup";

// The APIs behind the console's charts: one compute's last days (time by state, savings, wakes, wake
// latency) with real wakes through the proxy and recorded history, and an organization's usage per project.

const DAY = 86_400_000;
const HOUR = 3_600_000;
const utcDay = (t: number) => Math.floor(t / DAY) * DAY;

interface Latency {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
}
interface Summary {
  computeId: string;
  plan: string;
  from: string;
  seconds: { running: number; paused: number; suspended: number; other: number };
  savings: { cuHours: number; usd: number; pricePerCuHour: number; pricePlan: string };
  days: { date: string; seconds: { running: number; paused: number; suspended: number; other: number }; wakes: { warm: number; cold: number; joined: number } }[];
  wakeLatency: { warm: Latency; cold: Latency; joined: Latency };
}

/** The nearest-rank percentile, to compare the API's figures with the recorded wakes. */
const nearestRank = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.max(1, Math.ceil((p / 100) * values.length)) - 1];

describe("compute usage summary API", () => {
  it("reports time by state, savings, wakes per day and latency from real wakes and recorded history", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");

    // A cold wake (suspended through the API) and a warm one (paused), each by a client through the proxy,
    // with a query the compute must answer (the proxy answers a new session's `SELECT 1` itself).
    expect((await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key })).status).toBe(200);
    const cold = await connectProxy(`${c.slug}.app`, c.password);
    await cold.query("SELECT DATABASE()");
    await cold.end();
    expect(await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" })).not.toBeNull();
    const warm = await connectProxy(`${c.slug}.app`, c.password);
    await warm.query("SELECT DATABASE()");
    await warm.end();
    await waitFor(async () => (await db.wakeEvent.count({ where: { computeId: c.computeId } })) >= 2, 5000, "two wake records");

    // History three UTC days ago, recorded as the lifecycle records it: 2 h running, 10 h suspended at 0.25 CU.
    const organizationId = tenant.organizationId;
    const day = utcDay(Date.now()) - 3 * DAY;
    await db.usageEvent.createMany({
      data: [
        { organizationId, projectId: c.projectId, computeId: c.computeId, state: "running", size: 0.25, startedAt: new Date(day + 8 * HOUR), endedAt: new Date(day + 10 * HOUR) },
        { organizationId, projectId: c.projectId, computeId: c.computeId, state: "suspended", size: 0.25, startedAt: new Date(day + 10 * HOUR), endedAt: new Date(day + 20 * HOUR) },
      ],
    });
    await db.wakeEvent.createMany({
      data: [
        { organizationId, projectId: c.projectId, computeId: c.computeId, fromState: "suspended", kind: "cold", startedAt: new Date(day + 8 * HOUR), durationMs: 640, role: "app", clientAddress: "203.0.113.9" },
        { organizationId, projectId: c.projectId, computeId: c.computeId, fromState: "paused", kind: "warm", startedAt: new Date(day + 9 * HOUR), durationMs: 15, role: "app", clientAddress: "203.0.113.9" },
      ],
    });

    const res = await call<{ summary: Summary }>("GET", `/api/v1/compute/${c.computeId}/usage-summary?days=7`, { key: tenant.key });
    expect(res.status).toBe(200);
    const s = res.body.summary;
    expect(s.computeId).toBe(c.computeId);
    expect(s.days).toHaveLength(7);
    expect(s.from).toBe(new Date(utcDay(Date.now()) - 6 * DAY).toISOString());
    const past = s.days.find((d) => d.date === new Date(day).toISOString().slice(0, 10))!;
    expect(past.seconds).toEqual({ running: 7200, paused: 0, suspended: 36000, other: 0 });
    expect(past.wakes).toEqual({ warm: 1, cold: 1, joined: 0 });

    // Today: the real wakes, one cold and one warm, and time in each state.
    const today = s.days.at(-1)!;
    expect(today.date).toBe(new Date().toISOString().slice(0, 10));
    expect(today.wakes.warm).toBe(1);
    expect(today.wakes.cold + today.wakes.joined).toBeGreaterThanOrEqual(1);
    expect(today.seconds.running).toBeGreaterThan(0);
    expect(today.seconds.paused).toBeGreaterThan(0);
    expect(today.seconds.suspended).toBeGreaterThan(0);

    // Latency percentiles are those of the recorded wakes, warm and cold apart.
    const recorded = await db.wakeEvent.findMany({ where: { computeId: c.computeId }, select: { kind: true, durationMs: true } });
    for (const kind of ["warm", "cold"] as const) {
      const ms = recorded.filter((w) => w.kind === kind).map((w) => w.durationMs);
      expect(s.wakeLatency[kind]).toEqual({ count: ms.length, p50Ms: nearestRank(ms, 50), p90Ms: nearestRank(ms, 90) });
    }

    // Savings: the 10 h suspended at 0.25 CU (2.5 CU-hours) and today's paused and suspended time; a free
    // organization sees them at the first paid plan's price, a pro one at its own.
    expect(s.plan).toBe("free");
    expect(s.savings.pricePlan).toBe("pro");
    expect(s.savings.cuHours).toBeGreaterThanOrEqual(2.5);
    expect(s.savings.cuHours).toBeCloseTo(((s.seconds.paused + s.seconds.suspended) / 3600) * 0.25, 4);
    expect(s.savings.usd).toBe(Math.round(s.savings.cuHours * s.savings.pricePerCuHour * 100) / 100);
    expect((await call("PATCH", "/api/v1/billing", { key: tenant.key, body: { plan: "pro" } })).status).toBe(200);
    const pro = await call<{ summary: Summary }>("GET", `/api/v1/compute/${c.computeId}/usage-summary`, { key: tenant.key });
    expect(pro.body.summary).toMatchObject({ plan: "pro", savings: { pricePlan: "pro", pricePerCuHour: 0.16 } });
    expect(pro.body.summary.days).toHaveLength(30);
  });

  it("is the caller's own: another tenant's compute is a 404, bad days a 422, no credentials a 401", async () => {
    const owner = await newTenant();
    const stranger = await newTenant();
    const c = await createProjectWithCompute(owner);
    const other = await call<{ error: { code: string } }>("GET", `/api/v1/compute/${c.computeId}/usage-summary`, { key: stranger.key });
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe("not_found");
    for (const days of ["0", "91", "many"]) {
      const bad = await call<{ error: { code: string; details: { path: string }[] } }>("GET", `/api/v1/compute/${c.computeId}/usage-summary?days=${days}`, { key: owner.key });
      expect(bad.status).toBe(422);
      expect(bad.body.error.details[0]!.path).toBe("days");
    }
    expect((await call("GET", `/api/v1/compute/${c.computeId}/usage-summary`)).status).toBe(401);
  });
});

describe("usage per project API", () => {
  it("splits the organization's usage by project, deleted projects together, and sums to the organization's", async () => {
    const tenant = await newTenant();
    const stranger = await newTenant();
    const organizationId = tenant.organizationId;
    const make = async (name: string) =>
      (await call<{ project: { id: string; slug: string } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name } })).body.project;
    const [shop, blog] = [await make("Shop"), await make("Blog")];
    // A whole UTC day before anything is rolled up, so the intervals are what the API reads.
    const range = await rolledRange();
    const day = utcDay((range ? range.from.getTime() : Date.now()) - 2 * DAY);
    const at = (h: number) => new Date(day + h * HOUR);
    await db.usageEvent.createMany({
      data: [
        { organizationId, projectId: shop.id, computeId: `test-${shop.id}`, state: "running", size: 1, startedAt: at(1), endedAt: at(3) },
        { organizationId, projectId: shop.id, computeId: `test-${shop.id}`, state: "paused", size: 1, startedAt: at(3), endedAt: at(5) },
        { organizationId, projectId: blog.id, computeId: `test-${blog.id}`, state: "running", size: 0.5, startedAt: at(23), endedAt: at(25) }, // 1 h each day
        { organizationId, projectId: null, computeId: "test-deleted", state: "resuming", size: 2, startedAt: at(4), endedAt: at(4.5) },
      ],
    });
    const query = `granularity=day&from=${new Date(day).toISOString()}&to=${new Date(day + 2 * DAY).toISOString()}`;
    type ByProject = { projects: { projectId: string | null; name: string; slug: string | null; usage: { start: string; computeSeconds: number; cuSeconds: number }[]; totals: { computeSeconds: number; cuSeconds: number } }[] };
    const res = await call<ByProject>("GET", `/api/v1/usage/projects?${query}`, { key: tenant.key });
    expect(res.status).toBe(200);
    const rows = res.body.projects.map((p) => [p.name, p.slug, p.usage.map((b) => b.computeSeconds), p.totals.cuSeconds]);
    expect(rows).toEqual([
      ["Blog", blog.slug, [3600, 3600], 3600],
      ["Shop", shop.slug, [7200, 0], 7200],
      ["Deleted projects", null, [1800, 0], 3600],
    ]);
    const org = await call<{ totals: { computeSeconds: number; cuSeconds: number } }>("GET", `/api/v1/usage?${query}`, { key: tenant.key });
    expect(org.body.totals).toMatchObject({ computeSeconds: 3600 * 2 + 7200 + 1800, cuSeconds: 3600 + 7200 + 3600 });

    // Another organization sees none of it; bad ranges get the usage API's 422.
    const theirs = await call<ByProject>("GET", `/api/v1/usage/projects?${query}`, { key: stranger.key });
    expect(theirs.body.projects).toEqual([]);
    const bad = await call<{ error: { code: string } }>("GET", `/api/v1/usage/projects?from=${new Date(day + DAY).toISOString()}&to=${new Date(day).toISOString()}`, { key: tenant.key });
    expect(bad.status).toBe(422);
    // A CSV is not offered per project: a 422 naming `format`, not JSON under a CSV request.
    const csv = await call<{ error: { code: string; details: { path?: string }[] } }>("GET", `/api/v1/usage/projects?${query}&format=csv`, { key: tenant.key });
    expect(csv.status).toBe(422);
    expect(csv.body.error.details).toEqual([expect.objectContaining({ path: "format" })]);
  });

  it("answers a signed-in user who belongs to no organization with 404, like GET /api/v1/usage", async () => {
    const loner = await newTenant();
    await db.organization.delete({ where: { id: loner.organizationId } });
    for (const path of ["/api/v1/usage", "/api/v1/usage/projects"]) {
      const res = await call<{ error: { code: string } }>("GET", path, { cookie: loner.cookie });
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
  });
});
