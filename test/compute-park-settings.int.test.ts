import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RouteCache } from "../proxy/routing";
import { db, disconnectDb } from "../server/db";
import { call, newTenant, type Tenant } from "./api";

// The park settings of a compute (issue 14): PATCH /api/v1/compute/{id} takes parkIdleSessions and
// parkAfterSeconds, refuses bad values with the error body, and the proxy's route reads them resolved.

const errorBody = { error: { code: "validation", message: expect.any(String), details: expect.any(Array) } };

let tenant: Tenant;
beforeAll(async () => {
  tenant = await newTenant();
});
afterAll(async () => {
  await db.organization.deleteMany({ where: { id: tenant?.organizationId } });
  await disconnectDb();
});

/** A project with a role and a compute row (suspended, so the reconciler leaves it alone). */
async function newCompute(): Promise<{ computeId: string; slug: string }> {
  const slug = `park-${crypto.randomBytes(4).toString("hex")}`;
  const project = await db.project.create({ data: { organizationId: tenant.organizationId, slug, name: slug } });
  await db.projectRole.create({ data: { projectId: project.id, name: "app", passwordHash: `*${"A".repeat(40)}` } });
  const compute = await db.compute.create({ data: { projectId: project.id, state: "suspended", suspendTimeoutSeconds: 300 } });
  return { computeId: compute.id, slug };
}

const patch = (computeId: string, body: unknown) => call<{ compute: Record<string, unknown> }>("PATCH", `/api/v1/compute/${computeId}`, { key: tenant.key, body });
const route = (slug: string) => new RouteCache(0).lookup({ slug, role: "app" });

describe("compute park settings", () => {
  it("defaults to parking after the suspend timeout, and the proxy's route follows every change", async () => {
    const { computeId, slug } = await newCompute();
    const status = await call<{ compute: Record<string, unknown> }>("GET", `/api/v1/compute/${computeId}/status`, { key: tenant.key });
    expect(status.body.compute).toMatchObject({
      parkIdleSessions: true,
      parkAfterSeconds: null,
      sessions: { active: 0, parked: 0, pinned: 0, pins: [] },
    });
    expect((await route(slug))?.compute?.park).toEqual({ enabled: true, afterSeconds: 300 });

    const changed = await patch(computeId, { parkAfterSeconds: 90 });
    expect(changed.status).toBe(200);
    expect(changed.body.compute).toMatchObject({ parkIdleSessions: true, parkAfterSeconds: 90, suspendTimeoutSeconds: 300 });
    expect((await route(slug))?.compute?.park).toEqual({ enabled: true, afterSeconds: 90 });

    expect((await patch(computeId, { parkIdleSessions: false })).body.compute).toMatchObject({ parkIdleSessions: false, parkAfterSeconds: 90 });
    expect((await route(slug))?.compute?.park).toEqual({ enabled: false, afterSeconds: 90 });

    // Back to the suspend timeout, which a change of the timeout then moves.
    await patch(computeId, { parkIdleSessions: true, parkAfterSeconds: null, suspendTimeoutSeconds: 600 });
    expect((await route(slug))?.compute?.park).toEqual({ enabled: true, afterSeconds: 600 });

    // A compute that never suspends, with no park time of its own, does not park (nothing to gain).
    await patch(computeId, { suspendTimeoutSeconds: 0 });
    expect((await route(slug))?.compute?.park).toEqual({ enabled: false, afterSeconds: 0 });
  });

  it("refuses bad values with 422 and the field, and changes nothing", async () => {
    const { computeId } = await newCompute();
    for (const [body, path] of [
      [{ parkAfterSeconds: 0 }, "parkAfterSeconds"],
      [{ parkAfterSeconds: -5 }, "parkAfterSeconds"],
      [{ parkAfterSeconds: 1.5 }, "parkAfterSeconds"],
      [{ parkAfterSeconds: 86_401 }, "parkAfterSeconds"],
      [{ parkAfterSeconds: "60" }, "parkAfterSeconds"],
      [{ parkIdleSessions: "yes" }, "parkIdleSessions"],
      [{ parkIdleSessions: null }, "parkIdleSessions"],
    ] as const) {
      const res = await patch(computeId, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body).toEqual(errorBody);
      const details = (res.body as unknown as { error: { details: { path: string; message: string }[] } }).error.details;
      expect(details.map((d) => d.path)).toEqual([path]);
    }
    const res = await patch(computeId, { parkAfterSeconds: 86_401 });
    const details = (res.body as unknown as { error: { details: { message: string }[] } }).error.details;
    expect(details[0]!.message).toMatch(/between 1 and 86400, or null/);
    expect(await db.compute.findUniqueOrThrow({ where: { id: computeId } })).toMatchObject({ parkIdleSessions: true, parkAfterSeconds: null });
    // The bounds themselves are accepted.
    expect((await patch(computeId, { parkAfterSeconds: 86_400 })).status).toBe(200);
    expect((await patch(computeId, { parkAfterSeconds: 1 })).status).toBe(200);
  });

  it("stores the park settings given at create, and refuses bad ones before creating anything", async () => {
    const project = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name: "parking at create" } });
    const create = (body: unknown) => call<{ compute: Record<string, unknown> }>("POST", `/api/v1/projects/${project.body.project.id}/compute`, { key: tenant.key, body });
    for (const body of [{ parkAfterSeconds: 0 }, { parkAfterSeconds: 86_401 }, { parkIdleSessions: "no" }]) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body).toEqual(errorBody);
    }
    expect(await db.compute.count({ where: { projectId: project.body.project.id } })).toBe(0);

    const created = await create({ parkIdleSessions: false, parkAfterSeconds: 45 });
    expect(created.status).toBe(201);
    expect(created.body.compute).toMatchObject({ parkIdleSessions: false, parkAfterSeconds: 45 });
    const row = await db.compute.findFirstOrThrow({ where: { projectId: project.body.project.id } });
    expect(row).toMatchObject({ parkIdleSessions: false, parkAfterSeconds: 45 });
  });
});
