import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";

// Two organizations cannot see or touch each other's projects and computes: everything is a 404.

describe("tenant isolation", () => {
  it("keeps projects, computes, roles and operations apart", async () => {
    const alice = await newTenant();
    const bob = await newTenant();
    const project = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: alice.key, body: { name: "alice's" } });
    const projectId = project.body.project.id;
    const compute = await call<{ compute: { id: string } }>("POST", `/api/v1/projects/${projectId}/compute`, { key: alice.key });
    expect(compute.status).toBe(201);
    const computeId = compute.body.compute.id;

    const bobList = await call<{ projects: { id: string }[] }>("GET", "/api/v1/projects", { key: bob.key });
    expect(bobList.body.projects.map((p) => p.id)).not.toContain(projectId);

    const attempts: [string, string, unknown?][] = [
      ["GET", `/api/v1/projects/${projectId}`],
      ["PATCH", `/api/v1/projects/${projectId}`, { name: "mine now" }],
      ["DELETE", `/api/v1/projects/${projectId}`],
      ["POST", `/api/v1/projects/${projectId}/compute`],
      ["GET", `/api/v1/projects/${projectId}/roles`],
      ["POST", `/api/v1/projects/${projectId}/roles`, { name: "intruder" }],
      ["POST", `/api/v1/projects/${projectId}/roles/app/reset-password`],
      ["DELETE", `/api/v1/projects/${projectId}/roles/app`],
      ["GET", `/api/v1/projects/${projectId}/operations`],
      ["GET", `/api/v1/projects/${projectId}/usage`],
      ["GET", `/api/v1/compute/${computeId}/status`],
      ["PATCH", `/api/v1/compute/${computeId}`, { suspendTimeoutSeconds: 0 }],
      ["POST", `/api/v1/compute/${computeId}/suspend`],
      ["POST", `/api/v1/compute/${computeId}/resume`],
      ["DELETE", `/api/v1/compute/${computeId}`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, { key: bob.key, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // Bob cannot act in Alice's organization by naming it either.
    const named = await call("POST", "/api/v1/projects", { key: bob.key, body: { name: "x", organizationId: alice.organizationId } });
    expect(named.status).toBe(404);

    // Nothing of Alice's changed.
    const mine = await call<{ project: { name: string; compute: { state: string; suspendTimeoutSeconds: number } } }>(
      "GET",
      `/api/v1/projects/${projectId}`,
      { key: alice.key },
    );
    expect(mine.body.project.name).toBe("alice's");
    expect(mine.body.project.compute.state).toBe("running");
    expect(mine.body.project.compute.suspendTimeoutSeconds).toBe(300);
    const roles = await call<{ roles: { name: string }[] }>("GET", `/api/v1/projects/${projectId}/roles`, { key: alice.key });
    expect(roles.body.roles.map((r) => r.name)).toEqual(["app"]);

    expect((await call("DELETE", `/api/v1/projects/${projectId}`, { key: alice.key })).status).toBe(200);
  });
});
