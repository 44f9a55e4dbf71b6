import { describe, expect, it } from "vitest";
import { newTenant } from "./api";
import { connectDirect, createProjectWithCompute } from "./compute";
import { db } from "../server/db";

// A proxy's thaw sends its compare-and-set once the client's login to the frozen server has its answer
// (WakeOptions.commitAfter), so that PostgreSQL's work does not compete with the thawed server for the CPU.
// What waits for the login must never hang on it: a login that never answers, or fails, delays the commit by
// a few milliseconds at most, and the compute is recorded running all the same.

async function pausedCompute() {
  const tenant = await newTenant();
  const created = await createProjectWithCompute(tenant);
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
});
