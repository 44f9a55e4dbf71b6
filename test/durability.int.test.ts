import mysql from "mysql2/promise";
import { describe, expect, inject, it } from "vitest";
import { call, newTenant } from "./api";
import { connectDirect, createProjectWithCompute, mariadbdCount, pidOf, processAlive, waitFor } from "./compute";

describe("durability and access", () => {
  it("keeps a committed row through kill -9, and the reconciler brings the compute back", async () => {
    const tenant = await newTenant();
    const dataDir = inject("dataDir");
    const created = await createProjectWithCompute(tenant);
    const conn = await connectDirect(created.endpoint, created.password);
    await conn.query("CREATE TABLE ledger (id INT PRIMARY KEY, amount DECIMAL(10,2)) ENGINE=InnoDB");
    await conn.query("INSERT INTO ledger VALUES (1, 42.50)");
    await conn.end();

    const pid = pidOf(dataDir, created.computeId)!;
    expect(processAlive(pid)).toBe(true);
    process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 50));

    // Never shown running while its process is gone: the very next status read is already true.
    const first = await call<{ compute: { state: string } }>("GET", `/api/v1/compute/${created.computeId}/status`, { key: tenant.key });
    const pidNow = pidOf(dataDir, created.computeId);
    if (first.body.compute.state === "running") expect(pidNow !== pid && pidNow !== null && processAlive(pidNow)).toBe(true);

    // The scheduler ticks every second in the tests: within two ticks the crash is noticed and restarted.
    const status = await waitFor(
      async () => {
        const res = await call<{ compute: { state: string; endpoint: { host: string; port: number } } }>(
          "GET",
          `/api/v1/compute/${created.computeId}/status`,
          { key: tenant.key },
        );
        const newPid = pidOf(dataDir, created.computeId);
        return res.body.compute.state === "running" && newPid && newPid !== pid && processAlive(newPid) ? res.body : null;
      },
      20_000,
      "the compute to be restarted",
    );
    const again = await connectDirect(status.compute.endpoint, created.password);
    const [rows] = await again.query("SELECT amount FROM ledger WHERE id = 1");
    expect(rows).toEqual([{ amount: "42.50" }]);
    await again.end();
    expect(mariadbdCount(dataDir, created.computeId)).toBe(1);

    const ops = await call<{ operations: { kind: string; actor: string; reason: string }[] }>(
      "GET",
      `/api/v1/projects/${created.projectId}/operations`,
      { key: tenant.key },
    );
    expect(ops.body.operations[0]).toMatchObject({ kind: "restart_compute", actor: "reconciler", reason: expect.stringMatching(/ended unexpectedly/) });
    await call("DELETE", `/api/v1/projects/${created.projectId}`, { key: tenant.key });
  });

  it("lets nobody log in over TCP without a role's password", async () => {
    const tenant = await newTenant();
    const created = await createProjectWithCompute(tenant);
    const attempts = [
      { user: "root", password: "" },
      { user: "root", password: "root" },
      { user: "app", password: "" },
      { user: "app", password: "wrong" },
      { user: "", password: "" },
      { user: "mysql", password: "" },
    ];
    for (const a of attempts) {
      await expect(
        mysql.createConnection({ host: created.endpoint.host, port: created.endpoint.port, user: a.user, password: a.password }),
        `${a.user}/${a.password}`,
      ).rejects.toThrow(/Access denied/);
    }
    await call("DELETE", `/api/v1/projects/${created.projectId}`, { key: tenant.key });
  });
});
