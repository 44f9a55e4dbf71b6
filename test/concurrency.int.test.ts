import { describe, expect, inject, it } from "vitest";
import { call, newTenant } from "./api";
import { connectDirect, createProjectWithCompute, mariadbdCount } from "./compute";

// However many callers resume one compute at once, its process is started once.

describe("concurrent resume", () => {
  it("starts a suspended compute once for 30 simultaneous resume calls", async () => {
    const tenant = await newTenant();
    const created = await createProjectWithCompute(tenant);
    await call("POST", `/api/v1/compute/${created.computeId}/suspend`, { key: tenant.key });

    const replies = await Promise.all(
      Array.from({ length: 30 }, () =>
        call<{ compute: { state: string; endpoint: { host: string; port: number } } }>(
          "POST",
          `/api/v1/compute/${created.computeId}/resume`,
          { key: tenant.key },
        ),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(new Set(replies.map((r) => r.body.compute.state))).toEqual(new Set(["running"]));
    expect(new Set(replies.map((r) => r.body.compute.endpoint.port)).size).toBe(1);

    const ops = await call<{ operations: { kind: string; status: string }[] }>(
      "GET",
      `/api/v1/projects/${created.projectId}/operations`,
      { key: tenant.key },
    );
    expect(ops.body.operations.filter((o) => o.kind === "resume_compute")).toEqual([
      expect.objectContaining({ status: "succeeded" }),
    ]);
    expect(mariadbdCount(inject("dataDir"), created.computeId)).toBe(1);
    const conn = await connectDirect(replies[0]!.body.compute.endpoint, created.password);
    await conn.query("SELECT 1");
    await conn.end();
    await call("DELETE", `/api/v1/projects/${created.projectId}`, { key: tenant.key });
  });
});
