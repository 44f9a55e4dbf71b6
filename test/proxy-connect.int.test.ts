import { execFile } from "node:child_process";
import { promisify } from "node:util";
import mariadb from "mariadb";
import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { createProjectWithCompute, waitFor } from "./compute";
import { connectProxy, connectProxyWithServerName, proxyPort, rejection } from "./proxy";

// Connecting through the proxy with the clients tenants use: mysql2, the mariadb connector, the mariadb CLI.

const run = promisify(execFile);

describe("proxy: protocol and routing", () => {
  it("routes <slug>.<role> to the project's compute with mysql2, the mariadb connector and the CLI", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const user = `${c.slug}.app`;

    const conn = await connectProxy(user, c.password);
    const [rows] = await conn.query("SELECT CURRENT_USER() AS me, DATABASE() AS db, @@version AS version, 'ü✓' AS text");
    expect((rows as Record<string, string>[])[0]).toMatchObject({ me: "app@%", db: "main", text: "ü✓", version: expect.stringMatching(/MariaDB/) });
    await conn.end();

    const m = await mariadb.createConnection({ host: "127.0.0.1", port: proxyPort(), user, password: c.password, database: "main" });
    expect(await m.query("SELECT 40 + 2 AS answer")).toEqual([{ answer: 42 }]);
    expect(m.serverVersion()).toMatch(/MariaDB/);
    await m.end();

    const cli = await run("mariadb", ["-h", "127.0.0.1", "-P", String(proxyPort()), "-u", user, `-p${c.password}`, "main", "-N", "-e", "SELECT CONCAT('hello ', CURRENT_USER())"]);
    expect(cli.stdout.trim()).toBe("hello app@%");
    const tlsCli = await run("mariadb", ["--ssl", "-h", "127.0.0.1", "-P", String(proxyPort()), "-u", user, `-p${c.password}`, "-N", "-e", "SHOW STATUS LIKE 'Ssl_cipher'"]);
    // TLS ends at the proxy (the compute's own session is plain TCP on loopback).
    expect(tlsCli.stdout).toContain("Ssl_cipher");
    const status = await run("mariadb", ["--ssl", "-h", "127.0.0.1", "-P", String(proxyPort()), "-u", user, `-p${c.password}`, "-e", "status"]);
    expect(status.stdout).toMatch(/SSL:\s+Cipher in use/);
  });

  it("routes by the TLS server name with a bare role", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const conn = await connectProxyWithServerName(`${c.slug}.db.localhost`, "app", c.password);
    const [rows] = await conn.query("SELECT CURRENT_USER() AS me");
    expect(rows).toEqual([{ me: "app@%" }]);
    await conn.end();
  });

  it("switches MySQL 8 style clients to mysql_native_password", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    // The mariadb CLI asked to start with caching_sha2_password gets an auth switch and logs in.
    const cli = await run("mariadb", ["--default-auth=caching_sha2_password", "-h", "127.0.0.1", "-P", String(proxyPort()), "-u", `${c.slug}.app`, `-p${c.password}`, "-N", "-e", "SELECT 1"]).catch((e: { stderr: string }) => ({ stdout: "", stderr: e.stderr }));
    expect(cli.stdout.trim() || cli.stderr).toBe("1");
  });

  it("refuses a wrong password, an unknown role and an unknown project alike, without waking anything", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });

    const cases = [
      [`${c.slug}.app`, "wrong password"],
      [`${c.slug}.nobody`, c.password],
      [`no-such-project-1234.app`, c.password],
      ["no-dot-at-all", c.password],
    ];
    for (const [user, password] of cases) {
      const error = await rejection(connectProxy(user!, password!));
      expect(error.errno, user).toBe(1045);
      expect(error.sqlState).toBe("28000");
      expect(error.message).toBe(`Access denied for user '${user}'@'127.0.0.1' (using password: YES)`);
    }
    const status = await call<{ compute: { state: string } }>("GET", `/api/v1/compute/${c.computeId}/status`, { key: tenant.key });
    expect(status.body.compute.state).toBe("suspended");
    const ops = await call<{ operations: { kind: string }[] }>("GET", `/api/v1/projects/${c.projectId}/operations`, { key: tenant.key });
    expect(ops.body.operations.map((o) => o.kind)).toEqual(["suspend_compute", "create_compute"]);
  });

  it("uses a new password at once after a reset", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    await (await connectProxy(`${c.slug}.app`, c.password)).end(); // the route is now cached
    const reset = await call<{ password: string }>("POST", `/api/v1/projects/${c.projectId}/roles/app/reset-password`, { key: tenant.key });
    const conn = await connectProxy(`${c.slug}.app`, reset.body.password);
    await conn.query("SELECT 1");
    await conn.end();
  });

  it("reports open connections and activity on the compute status", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const conns = await Promise.all([1, 2, 3].map(() => connectProxy(`${c.slug}.app`, c.password)));
    const open = await waitFor(
      async () => {
        const s = await call<{ compute: { activeConnections: number; lastActiveAt: string | null } }>("GET", `/api/v1/compute/${c.computeId}/status`, { key: tenant.key });
        return s.body.compute.activeConnections === 3 ? s.body.compute : null;
      },
      10_000,
      "3 active connections",
    );
    expect(open.lastActiveAt).not.toBeNull();
    await Promise.all(conns.map((x) => x.end()));
    await waitFor(
      async () => {
        const s = await call<{ compute: { activeConnections: number } }>("GET", `/api/v1/compute/${c.computeId}/status`, { key: tenant.key });
        return s.body.compute.activeConnections === 0;
      },
      10_000,
      "connections to close",
    );
  });
});
