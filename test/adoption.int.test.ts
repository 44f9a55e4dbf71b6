import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { launch, type Product } from "../scripts/launcher";
import { killComputes, scratchDataDir, scratchEnv } from "../scripts/scratch-product";
import { connectDirect, mariadbdCount, pidOf } from "./compute";

// A control-plane restart while a compute runs: the new process adopts it, nothing is started twice.
// This test runs a second copy of the product of its own, so that it can restart it.

let product: Product | undefined;
const dataDir = scratchDataDir("msl-adopt");

afterAll(async () => {
  await product?.stop();
  killComputes(dataDir);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function api<T>(method: string, p: string, key: string | null, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${product!.baseUrl}${p}`, {
    method,
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const logLines: string[] = [];

describe("control-plane restart", () => {
  it("adopts a running compute instead of starting it again", async () => {
    const options = {
      env: await scratchEnv(dataDir, { SCHEDULER_INTERVAL_MS: "500" }),
      fastPostgres: true,
      quiet: true,
      log: (line: string) => logLines.push(line),
    };
    product = await launch(options).catch((error: unknown) => {
      console.error(logLines.join("\n"));
      throw error;
    });
    // An API key straight from the database: this test is about the restart, not about sign-in.
    const { issueApiKey } = await import("../server/api-keys/api-keys");
    const { signup } = await import("../server/tenancy/signup");
    process.env.DATABASE_URL = product.databaseUrl;
    const { getDb, disconnectDb } = await import("../server/db");
    await disconnectDb();
    getDb();
    const { organization } = await signup({ email: `adopt-${Date.now()}@example.com`, password: "long enough pw" });
    const { key } = await issueApiKey({ organizationId: organization.id, name: "t", role: "owner", createdById: null });

    const project = await api<{ project: { id: string } }>("POST", "/api/v1/projects", key, { name: "adopt" });
    const compute = await api<{ compute: { id: string; endpoint: { host: string; port: number } }; connection: { password: string } }>(
      "POST",
      `/api/v1/projects/${project.body.project.id}/compute`,
      key,
    );
    expect(compute.status).toBe(201);
    const computeId = compute.body.compute.id;
    const pid = pidOf(dataDir, computeId);
    const conn = await connectDirect(compute.body.compute.endpoint, compute.body.connection.password);
    await conn.query("CREATE TABLE t (id INT PRIMARY KEY)");

    // The whole product stops (app and embedded PostgreSQL) and starts again on the same data directory.
    await disconnectDb();
    await product.stop();
    product = await launch(options);
    await new Promise((r) => setTimeout(r, 1500)); // a few reconciler ticks of the new process

    expect(pidOf(dataDir, computeId)).toBe(pid);
    expect(mariadbdCount(dataDir, computeId)).toBe(1);
    // The session opened before the restart still works: the compute was never touched.
    await conn.query("INSERT INTO t VALUES (1)");
    await conn.end();
    const status = await api<{ compute: { state: string; endpoint: { port: number } } }>("GET", `/api/v1/compute/${computeId}/status`, key);
    expect(status.body.compute).toMatchObject({ state: "running", endpoint: { port: compute.body.compute.endpoint.port } });
    const ops = await api<{ operations: { kind: string }[] }>("GET", `/api/v1/projects/${project.body.project.id}/operations`, key);
    expect(ops.body.operations.map((o) => o.kind)).toEqual(["create_compute"]);
    await disconnectDb();
    // Two launches of the whole product (PostgreSQL, app, proxy): about 10 s each unloaded, several times
    // that on a loaded 2-core machine (a CI run saw 60 s run out), so this test gets more than the default.
  }, 240_000);
});
