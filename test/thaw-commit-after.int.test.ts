import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { connectDirect, createProjectWithCompute, waitFor } from "./compute";
import { connectProxy } from "./proxy";
import { db } from "../server/db";

// A proxy's thaw sends its compare-and-set once the client's login to the frozen server and its first
// command have their answers (WakeOptions.commitAfter), so that PostgreSQL's work does not compete with the
// thawed server for the CPU. What waits for them must never hang on them: a login that never answers, or
// fails, or a client that sends nothing, delays the commit by a few milliseconds at most, and the compute is
// recorded running all the same.

async function pausedCompute(settings: { parkIdleSessions?: boolean } = {}) {
  const tenant = await newTenant();
  const created = await createProjectWithCompute(tenant);
  if (settings.parkIdleSessions !== undefined) {
    const patched = await call("PATCH", `/api/v1/compute/${created.computeId}`, { key: tenant.key, body: settings });
    expect(patched.status).toBe(200);
  }
  const { pauseCompute } = await import("../server/compute/lifecycle/pause");
  expect(await pauseCompute({ actor: { system: "operator" }, computeId: created.computeId, reason: "paused by the test" })).not.toBeNull();
  const row = await db.compute.findUniqueOrThrow({ where: { id: created.computeId }, include: { project: { include: { organization: true } } } });
  expect(row.state).toBe("paused");
  const context = {
    organizationId: row.project.organizationId,
    rolesVersion: row.project.rolesVersion,
    plan: row.project.organization.plan,
    cuHoursQuota: row.project.organization.cuHoursQuota,
  };
  return { created, row, context };
}

describe("a thaw's commit after the client's login", () => {
  for (const [what, login] of [
    ["never answers", () => new Promise<never>(() => undefined)],
    ["fails", () => Promise.reject(new Error("the login failed"))],
  ] as const) {
    it(`records the compute running when the login it waits for ${what}`, async () => {
      const { created, row, context } = await pausedCompute();
      const { resumeForClient } = await import("../server/compute/lifecycle/resume");
      const commitAfter = login();
      commitAfter.catch(() => undefined);
      const woken = await resumeForClient({ projectId: row.projectId, row, context, reason: "the test", waitMs: 10_000, commitAfter });
      expect(woken).toMatchObject({ thawed: true, address: { port: created.endpoint.port } });
      expect((await db.compute.findUniqueOrThrow({ where: { id: created.computeId } })).state).toBe("running");
      const conn = await connectDirect(created.endpoint, created.password);
      const [rows] = await conn.query("SELECT 1 AS one");
      expect(rows).toEqual([{ one: 1 }]);
      await conn.end();
    });
  }

  it("records the compute running when the client that woke it through the proxy sends nothing", async () => {
    // Parking off: the login itself wakes the compute (a parking compute's login is answered by the proxy alone).
    const { created } = await pausedCompute({ parkIdleSessions: false });
    const conn = await connectProxy(`${created.slug}.app`, created.password);
    const recorded = async () => (await db.compute.findUniqueOrThrow({ where: { id: created.computeId } })).state === "running";
    await waitFor(recorded, 5000, "the thaw recorded without a first command");
    // By the proxy's own thaw, not by the reconciler, which would also record a paused row whose process runs
    // with a session, but only at its next pass (seconds).
    const resume = await db.operation.findFirst({ where: { computeId: created.computeId, kind: "resume_compute" } });
    expect(resume).toMatchObject({ actor: "proxy", status: "succeeded" });
    const [rows] = await conn.query("SELECT 1 AS one");
    expect(rows).toEqual([{ one: 1 }]);
    await conn.end();
  });
});
