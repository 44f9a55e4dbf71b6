import net from "node:net";
import { describe, expect, it } from "vitest";
import { call, newTenant, type Tenant } from "./api";
import { createProjectWithCompute, type CreatedCompute } from "./compute";
import { connectProxy, proxyPort, rejection } from "./proxy";

// A project's access rules (require TLS, allowed IP ranges): set through the project's PATCH, checked by
// the proxy after the password verifies and before anything wakes.

interface Access {
  requireTls: boolean;
  allowedCidrs: string[];
}
interface ErrorReply {
  error: { code: string; message: string; details: { path: string; message: string }[] };
}

const TLS = { ssl: { rejectUnauthorized: false } };
/** A client whose socket comes from another loopback address (mysql2 has no option for it). */
const from = (localAddress: string) => ({ stream: net.connect({ host: "127.0.0.1", port: proxyPort(), localAddress }) });

function setAccess(tenant: Tenant, projectId: string, access: Partial<Access>) {
  return call<{ project: { access: Access } } & ErrorReply>("PATCH", `/api/v1/projects/${projectId}`, { key: tenant.key, body: { access } });
}

/** A rule change reaches new connections once every proxy worker's cached route has expired. */
const routeCacheExpiry = () => new Promise((r) => setTimeout(r, Number(process.env.PROXY_ROUTE_CACHE_MS ?? 1000) + 200));

async function suspend(tenant: Tenant, c: CreatedCompute) {
  const res = await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });
  expect(res.status).toBe(200);
}

/** The compute is still suspended and nothing ever resumed it. */
async function expectStillSuspended(tenant: Tenant, c: CreatedCompute) {
  const status = await call<{ compute: { state: string } }>("GET", `/api/v1/compute/${c.computeId}/status`, { key: tenant.key });
  expect(status.body.compute.state).toBe("suspended");
  const ops = await call<{ operations: { kind: string }[] }>("GET", `/api/v1/projects/${c.projectId}/operations`, { key: tenant.key });
  expect(ops.body.operations.map((o) => o.kind)).not.toContain("resume_compute");
}

describe("access rules through the API", () => {
  it("shows the defaults, sets, normalises and clears the rules, one at a time", async () => {
    const tenant = await newTenant();
    const created = await call<{ project: { id: string; access: Access } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name: "p" } });
    expect(created.body.project.access).toEqual({ requireTls: false, allowedCidrs: [] });
    const id = created.body.project.id;

    const set = await setAccess(tenant, id, { allowedCidrs: ["10.1.2.3/8", "192.168.1.7", "2001:DB8::1/32", "::ffff:127.0.0.1", "10.0.0.0/8"] });
    expect(set.status).toBe(200);
    expect(set.body.project.access).toEqual({
      requireTls: false,
      allowedCidrs: ["10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32", "127.0.0.1/32"],
    });
    // A change names only the rules it changes.
    const tls = await setAccess(tenant, id, { requireTls: true });
    expect(tls.body.project.access).toEqual({ requireTls: true, allowedCidrs: ["10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32", "127.0.0.1/32"] });

    const got = await call<{ project: { access: Access } }>("GET", `/api/v1/projects/${id}`, { key: tenant.key });
    expect(got.body.project.access).toEqual(tls.body.project.access);
    const list = await call<{ projects: { id: string; access: Access }[] }>("GET", "/api/v1/projects", { key: tenant.key });
    expect(list.body.projects.find((p) => p.id === id)?.access).toEqual(tls.body.project.access);

    const cleared = await setAccess(tenant, id, { requireTls: false, allowedCidrs: [] });
    expect(cleared.body.project.access).toEqual({ requireTls: false, allowedCidrs: [] });
  });

  it("answers invalid rules with 422 naming each bad entry, and changes nothing", async () => {
    const tenant = await newTenant();
    const created = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: tenant.key, body: { name: "p" } });
    const id = created.body.project.id;
    await setAccess(tenant, id, { allowedCidrs: ["203.0.113.0/24"] });

    const bad = await setAccess(tenant, id, { allowedCidrs: ["10.0.0.0/8", "10.0.0.0/33", "example.com", "fe80::1%eth0", "256.1.1.1", "10.0.0.1\u0000"] });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("validation");
    expect(bad.body.error.details.map((d) => d.path)).toEqual(
      expect.arrayContaining(["access.allowedCidrs.1", "access.allowedCidrs.2", "access.allowedCidrs.3", "access.allowedCidrs.4", "access.allowedCidrs.5"]),
    );
    expect(bad.body.error.details.map((d) => d.path)).not.toContain("access.allowedCidrs.0");

    const cases: [unknown, string][] = [
      [{ allowedCidrs: Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`) }, "access.allowedCidrs"],
      [{ allowedCidrs: "10.0.0.0/8" }, "access.allowedCidrs"],
      [{ allowedCidrs: [42] }, "access.allowedCidrs.0"],
      [{ requireTls: "yes" }, "access.requireTls"],
      [{ requireTLS: true }, "access"],
      [{}, "access"],
    ];
    for (const [access, path] of cases) {
      const res = await call<ErrorReply>("PATCH", `/api/v1/projects/${id}`, { key: tenant.key, body: { access } });
      expect(res.status, JSON.stringify(access)).toBe(422);
      expect(res.body.error.details.map((d) => d.path), JSON.stringify(access)).toContain(path);
    }
    const after = await call<{ project: { access: Access } }>("GET", `/api/v1/projects/${id}`, { key: tenant.key });
    expect(after.body.project.access).toEqual({ requireTls: false, allowedCidrs: ["203.0.113.0/24"] });
  });

  it("lets no other organization see or change the rules", async () => {
    const owner = await newTenant();
    const stranger = await newTenant();
    const created = await call<{ project: { id: string } }>("POST", "/api/v1/projects", { key: owner.key, body: { name: "p" } });
    const res = await setAccess(stranger, created.body.project.id, { allowedCidrs: ["0.0.0.0/0"] });
    expect(res.status).toBe(404);
    const after = await call<{ project: { access: Access } }>("GET", `/api/v1/projects/${created.body.project.id}`, { key: owner.key });
    expect(after.body.project.access.allowedCidrs).toEqual([]);
  });
});

describe("access rules at the proxy", () => {
  it("require TLS: refuses a plain client with the rule's message without waking the compute, and admits a TLS client", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const user = `${c.slug}.app`;
    // Connect once so the proxy has the route (without the rule) cached: the change must still reach it.
    await (await connectProxy(user, c.password)).end();
    await suspend(tenant, c);
    expect((await setAccess(tenant, c.projectId, { requireTls: true })).status).toBe(200);
    await routeCacheExpiry();

    const refused = await rejection(connectProxy(user, c.password));
    expect(refused.errno).toBe(1045);
    expect(refused.sqlState).toBe("28000");
    expect(refused.message).toBe(`Access denied: project ${c.slug} accepts connections only over TLS; connect with --ssl (or ssl-mode=REQUIRED)`);
    // Without the password nothing is revealed: the same answer as a wrong password anywhere.
    const stranger = await rejection(connectProxy(user, "wrong password"));
    expect(stranger.message).toBe(`Access denied for user '${user}'@'127.0.0.1' (using password: YES)`);
    await expectStillSuspended(tenant, c);

    // TLS ends at the proxy, so the compute cannot tell; that the plain client was refused and this one
    // is admitted is the rule at work.
    const conn = await connectProxy(user, c.password, TLS);
    const [rows] = await conn.query("SELECT 1 AS ok");
    expect(rows).toEqual([{ ok: 1 }]);
    await conn.end();
  });

  it("allowed IP ranges: refuses an address outside them without waking the compute, and admits one inside", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const user = `${c.slug}.app`;
    await suspend(tenant, c);
    await setAccess(tenant, c.projectId, { allowedCidrs: ["10.0.0.0/8", "2001:db8::/32"] });
    await routeCacheExpiry();

    for (const extra of [{}, TLS]) {
      const refused = await rejection(connectProxy(user, c.password, extra));
      expect(refused.errno).toBe(1045);
      expect(refused.sqlState).toBe("28000");
      expect(refused.message).toBe(
        `Access denied: project ${c.slug} does not accept connections from 127.0.0.1; add the address to the project's allowed IP ranges`,
      );
    }
    await expectStillSuspended(tenant, c);

    await setAccess(tenant, c.projectId, { allowedCidrs: ["10.0.0.0/8", "127.0.0.0/8"] });
    await routeCacheExpiry();
    const conn = await connectProxy(user, c.password);
    const [rows] = await conn.query("SELECT 1 AS ok");
    expect(rows).toEqual([{ ok: 1 }]);
    await conn.end();
  });

  it("tells loopback addresses apart (127.0.0.1 allowed, 127.0.0.2 not), and keeps open sessions", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const user = `${c.slug}.app`;
    const open = await connectProxy(user, c.password, from("127.0.0.2"));
    await setAccess(tenant, c.projectId, { allowedCidrs: ["127.0.0.1"] });
    await routeCacheExpiry();

    const refused = await rejection(connectProxy(user, c.password, from("127.0.0.2")));
    expect(refused.message).toMatch(/does not accept connections from 127\.0\.0\.2;/);
    const admitted = await connectProxy(user, c.password, from("127.0.0.1"));
    await admitted.end();

    // Sessions opened before the change are not cut; a change of user on them meets the new rules.
    const [rows] = await open.query("SELECT 2 AS still");
    expect(rows).toEqual([{ still: 2 }]);
    const changed = await open.changeUser({ user, password: c.password }).then(
      () => null,
      (error: { message: string }) => error,
    );
    expect(changed?.message).toBe(`Access denied: project ${c.slug} does not accept connections from 127.0.0.2; add the address to the project's allowed IP ranges`);
    await open.end().catch(() => undefined);
  });
});
