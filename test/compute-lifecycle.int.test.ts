import fs from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { call, newTenant } from "./api";
import { connectDirect, createProjectWithCompute, mariadbdCount } from "./compute";
import { isPortOpen } from "../server/util/free-port";

// The whole life of a compute through the REST API, checked on the real mariadbd behind it.

interface ComputeBody {
  compute: { id: string; state: string; endpoint: { host: string; port: number } | null };
  operation: { kind: string; status: string; actor: string } | null;
}

describe("compute lifecycle", () => {
  it("creates, keeps 1,000 rows across suspend and resume, and deletes the data", async () => {
    const tenant = await newTenant();
    const dataDir = inject("dataDir");
    const created = await createProjectWithCompute(tenant);
    expect(created.password).toMatch(/^[A-Za-z0-9]{24}$/);

    const conn = await connectDirect(created.endpoint, created.password);
    const [charset] = await conn.query("SELECT @@character_set_server AS cs, @@time_zone AS tz, @@innodb_flush_log_at_trx_commit AS flush, @@max_allowed_packet AS packet");
    expect((charset as Record<string, unknown>[])[0]).toMatchObject({ cs: "utf8mb4", tz: "+00:00", flush: 1 });
    expect(Number((charset as Record<string, unknown>[])[0]!.packet)).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    await conn.query("CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(64) CHARACTER SET utf8mb4)");
    const rows = Array.from({ length: 1000 }, (_, i) => [i, `item ${i} ✓`]);
    await conn.query("INSERT INTO items VALUES ?", [rows]);
    await conn.end();

    const suspended = await call<ComputeBody>("POST", `/api/v1/compute/${created.computeId}/suspend`, { key: tenant.key });
    expect(suspended.status).toBe(200);
    expect(suspended.body.compute.state).toBe("suspended");
    expect(suspended.body.compute.endpoint).toBeNull();
    expect(suspended.body.operation).toMatchObject({ kind: "suspend_compute", status: "succeeded", actor: expect.stringMatching(/^api_key:/) });
    expect(await isPortOpen(created.endpoint.port, created.endpoint.host)).toBe(false);
    expect(mariadbdCount(dataDir, created.computeId)).toBe(0);

    const status = await call<ComputeBody>("GET", `/api/v1/compute/${created.computeId}/status`, { key: tenant.key });
    expect(status.body.compute.state).toBe("suspended");

    const resumed = await call<ComputeBody>("POST", `/api/v1/compute/${created.computeId}/resume`, { key: tenant.key });
    expect(resumed.status).toBe(200);
    expect(resumed.body.compute.state).toBe("running");
    expect(resumed.body.operation).toMatchObject({ kind: "resume_compute", status: "succeeded" });
    const endpoint = resumed.body.compute.endpoint!;
    const again = await connectDirect(endpoint, created.password);
    const [count] = await again.query("SELECT COUNT(*) AS n, MAX(label) AS last FROM items");
    expect((count as Record<string, unknown>[])[0]).toEqual({ n: 1000, last: "item 999 ✓" });
    await again.end();

    const computeDir = `${dataDir}/computes/${created.computeId}`;
    expect(fs.existsSync(computeDir)).toBe(true);
    const deleted = await call("DELETE", `/api/v1/compute/${created.computeId}`, { key: tenant.key });
    expect(deleted.status).toBe(200);
    expect(fs.existsSync(computeDir)).toBe(false);
    expect(await isPortOpen(endpoint.port, endpoint.host)).toBe(false);
    expect((await call("GET", `/api/v1/compute/${created.computeId}/status`, { key: tenant.key })).status).toBe(404);

    const ops = await call<{ operations: { kind: string; status: string; durationMs: number }[] }>(
      "GET",
      `/api/v1/projects/${created.projectId}/operations`,
      { key: tenant.key },
    );
    expect(ops.body.operations.map((o) => o.kind)).toEqual(["delete_compute", "resume_compute", "suspend_compute", "create_compute"]);
    expect(ops.body.operations.every((o) => o.status === "succeeded" && o.durationMs >= 0)).toBe(true);

    const usage = await call<{ totals: { computeSeconds: number } }>("GET", `/api/v1/projects/${created.projectId}/usage?granularity=hour`, { key: tenant.key });
    expect(usage.status).toBe(200);
    expect(usage.body.totals.computeSeconds).toBeGreaterThan(0);
  });

  it("answers a second compute for a project with 409, and a repeated suspend or resume with the last operation", async () => {
    const tenant = await newTenant();
    const created = await createProjectWithCompute(tenant);
    const second = await call("POST", `/api/v1/projects/${created.projectId}/compute`, { key: tenant.key });
    expect(second.status).toBe(409);

    const first = await call<ComputeBody>("POST", `/api/v1/compute/${created.computeId}/resume`, { key: tenant.key });
    expect(first.status).toBe(200);
    expect(first.body.operation).toMatchObject({ kind: "create_compute" });

    await call("POST", `/api/v1/compute/${created.computeId}/suspend`, { key: tenant.key });
    const twice = await call<ComputeBody>("POST", `/api/v1/compute/${created.computeId}/suspend`, { key: tenant.key });
    expect(twice.status).toBe(200);
    expect(twice.body.operation).toMatchObject({ kind: "suspend_compute" });
    expect((await call("DELETE", `/api/v1/projects/${created.projectId}`, { key: tenant.key })).status).toBe(200);
  });

  it("applies new roles and password resets to the running compute", async () => {
    const tenant = await newTenant();
    const created = await createProjectWithCompute(tenant);
    const role = await call<{ password: string; connection: { user: string } }>("POST", `/api/v1/projects/${created.projectId}/roles`, {
      key: tenant.key,
      body: { name: "reporting" },
    });
    expect(role.status).toBe(201);
    expect(role.body.connection.user).toBe(`${created.slug}.reporting`);
    const conn = await connectDirect(created.endpoint, role.body.password, "reporting");
    await conn.end();

    const reset = await call<{ password: string }>("POST", `/api/v1/projects/${created.projectId}/roles/app/reset-password`, { key: tenant.key });
    expect(reset.status).toBe(200);
    await expect(connectDirect(created.endpoint, created.password)).rejects.toThrow(/Access denied/);
    await (await connectDirect(created.endpoint, reset.body.password)).end();

    const dup = await call("POST", `/api/v1/projects/${created.projectId}/roles`, { key: tenant.key, body: { name: "reporting" } });
    expect(dup.status).toBe(409);
    const bad = await call("POST", `/api/v1/projects/${created.projectId}/roles`, { key: tenant.key, body: { name: "Robert'); DROP" } });
    expect(bad.status).toBe(422);
    expect((await call("DELETE", `/api/v1/projects/${created.projectId}`, { key: tenant.key })).status).toBe(200);
  });
});
