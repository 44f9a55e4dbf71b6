import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { createProjectWithCompute, waitFor } from "./compute";
import { rejection, startSecondProxy } from "./proxy";
import type { RunningProxy } from "../proxy/start-proxy";
import { HEARD_ROUTE_TTL_MS } from "../proxy/routing";

// A proxy keeps the routes it read current by PostgreSQL's notifications of every change to them (migration
// route_change_notify, proxy/routing.ts): a compute's new state replaces the one its cached route held, so a
// wake decides on it without reading again; any other change (a password reset, the project's access rules)
// drops the route, so what it held stops working at once, although routes are otherwise kept a minute.

let proxy: RunningProxy;

beforeAll(async () => {
  proxy = await startSecondProxy({ PROXY_ROUTE_CACHE_MS: "1000" });
  await waitFor(async () => proxy.routes.hearsChanges, 10_000, "the proxy to listen for route changes");
});

afterAll(async () => {
  await proxy?.stop(0).catch(() => undefined);
});

const connect = (slug: string, password: string) =>
  mysql.createConnection({ host: "127.0.0.1", port: proxy.port, user: `${slug}.app`, password, database: "main" });

describe("proxy: routes kept current by the database's notifications", () => {
  it("holds a compute's new state without reading it, and wakes it from there", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    await (await connect(c.slug, c.password)).end();
    const target = { slug: c.slug, role: "app" };
    const read = proxy.routes.cached(target)!;
    expect(read.compute!.row.state).toBe("running");
    expect(proxy.routes.isCurrent(read)).toBe(true);

    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    expect(await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" })).not.toBeNull();
    const heard = await waitFor(async () => (proxy.routes.cached(target)?.compute?.row.state === "paused" ? proxy.routes.cached(target)! : null), 5_000, "the paused state to reach the proxy's route");
    expect(heard.compute!.row.version).toBeGreaterThan(read.compute!.row.version);
    expect(proxy.routes.isCurrent(heard)).toBe(true);

    const woken = await connect(c.slug, c.password);
    const [rows] = await woken.query("SELECT 1 + 1 AS two");
    expect(rows).toEqual([{ two: 2 }]);
    await woken.end();
    await waitFor(async () => proxy.routes.cached(target)?.compute?.row.state === "running", 5_000, "the wake's running state to reach the route");
  });

  it("stops taking a reset password at once, though routes are kept a minute", async () => {
    expect(HEARD_ROUTE_TTL_MS).toBeGreaterThanOrEqual(60_000);
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    await (await connect(c.slug, c.password)).end(); // the route is now cached
    const reset = await call<{ password: string }>("POST", `/api/v1/projects/${c.projectId}/roles/app/reset-password`, { key: tenant.key });
    expect(reset.status).toBe(200);
    await waitFor(async () => proxy.routes.cached({ slug: c.slug, role: "app" }) === undefined, 5_000, "the reset to drop the cached route");
    expect(await rejection(connect(c.slug, c.password))).toMatchObject({ errno: 1045 });
    const conn = await connect(c.slug, reset.body.password);
    await conn.query("SELECT 1");
    await conn.end();
  });

  it("drops a project's routes when the project or its organization changes", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const target = { slug: c.slug, role: "app" };
    const { db } = await import("../server/db");
    const project = await db.project.findUniqueOrThrow({ where: { id: c.projectId } });
    for (const change of [
      () => db.project.update({ where: { id: project.id }, data: { rolesVersion: { increment: 1 } } }),
      () => db.organization.update({ where: { id: project.organizationId }, data: { cuHoursQuota: 1000 } }),
    ]) {
      await (await connect(c.slug, c.password)).end();
      expect(proxy.routes.cached(target)).toBeDefined();
      await change();
      await waitFor(async () => proxy.routes.cached(target) === undefined, 5_000, "the change to drop the cached route");
    }
  });
});
