import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { createProjectWithCompute } from "./compute";

// GET /api/v1/projects as a tenant pages through it: newest first, `limit` at a time with the cursor it is
// given, each project with its compute's state, only the caller's organization's projects.

interface Listed {
  id: string;
  slug: string;
  name: string;
  organizationId: string;
  createdAt: string;
  updatedAt: string;
  access: { requireTls: boolean; allowedCidrs: string[] };
  compute: { id: string; state: string } | null;
}

describe("the project list", () => {
  it("pages newest first with the cursor, shows each compute's state, and only the caller's projects", async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    await call("POST", "/api/v1/projects", { key: other.key, body: { name: "someone else's" } });
    const withCompute = await createProjectWithCompute(tenant);
    const created: { id: string; createdAt: string }[] = [];
    for (const name of ["a", "b", "c", "d"]) {
      const res = await call<{ project: { id: string; createdAt: string } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name } });
      expect(res.status).toBe(201);
      created.push(res.body.project);
    }
    const restricted = await call("PATCH", `/api/v1/projects/${created[0]!.id}`, {
      key: tenant.key,
      body: { access: { requireTls: true, allowedCidrs: ["10.0.0.0/8"] } },
    });
    expect(restricted.status).toBe(200);

    const seen: Listed[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { projects: Listed[]; nextCursor: string | null } } = await call("GET", `/api/v1/projects?limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
        key: tenant.key,
      });
      expect(res.status).toBe(200);
      expect(res.body.projects.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.projects);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);

    expect(pages).toBe(3);
    expect(seen.map((p) => p.name)).toEqual(["d", "c", "b", "a", "test project"]);
    expect(seen.every((p) => p.organizationId === tenant.organizationId)).toBe(true);
    const a = seen.find((p) => p.name === "a")!;
    expect(a).toMatchObject({ id: created[0]!.id, createdAt: created[0]!.createdAt, access: { requireTls: true, allowedCidrs: ["10.0.0.0/8"] }, compute: null });
    expect(new Date(a.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(a.createdAt).getTime());
    expect(seen.find((p) => p.id === withCompute.projectId)?.compute).toEqual({ id: withCompute.computeId, state: "running" });

    // The same list in one page agrees with the pages; another tenant's cursor gives nothing away.
    const all = await call<{ projects: Listed[]; nextCursor: string | null }>("GET", "/api/v1/projects", { key: tenant.key });
    expect(all.body).toEqual({ projects: seen, nextCursor: null });
    const foreign = await call<{ projects: Listed[] }>("GET", `/api/v1/projects?cursor=${created[3]!.id}`, { key: other.key });
    expect(foreign.status).toBe(200);
    expect(foreign.body.projects).toEqual([]);
  });
});
