import crypto from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import { call, newTenant } from "./api";
import { connectDirect, createProjectWithCompute, pidOf, processAlive } from "./compute";
import { connectProxy } from "./proxy";
import { attachCompute, type AttachContext, type ClientSession } from "../proxy/attach";
import type { BackendSession } from "../proxy/backend";
import { Capability, NATIVE_PASSWORD } from "../proxy/protocol/constants";
import { RouteCache } from "../proxy/routing";
import { initialServerInfo } from "../proxy/server-info";
import { Waker } from "../proxy/wake";
import { db } from "../server/db";

// The attach step alone, against the product's database and real computes: an authenticated client
// session (as the transport and the policy leave it) is brought to its compute - woken if need be - and
// logged in to it as the role. The same session can be attached again, to a new compute connection: what
// re-attaching a parked session after its compute was suspended will take.

const backends: BackendSession[] = [];
afterEach(() => {
  for (const b of backends.splice(0)) b.compute.socket.destroy();
});

function context(): AttachContext & { wakes: string[] } {
  const wakes: string[] = [];
  return {
    routes: new RouteCache(0),
    waker: new Waker(),
    metrics: { handshake: () => undefined, authFailure: () => undefined, wake: (from) => wakes.push(from), backendRetry: () => undefined, sessionOpened: () => undefined, sessionClosed: () => undefined },
    serverInfo: initialServerInfo(),
    localSockets: true,
    wakes,
  };
}

/** A client session as policy.authenticate leaves it for `<slug>.app` with `password`. */
async function sessionFor(ctx: AttachContext, slug: string, password: string, arrivedAt = Date.now()): Promise<ClientSession> {
  const route = await ctx.routes.lookup({ slug, role: "app" });
  if (!route) throw new Error("no route");
  return {
    connectionId: 1,
    address: "127.0.0.1",
    tls: false,
    serverName: null,
    scramble: crypto.randomBytes(20),
    handshake: {
      capabilities: Capability.LONG_PASSWORD | Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.CONNECT_WITH_DB,
      extendedCapabilities: 0,
      maxPacketSize: 16 * 1024 * 1024,
      collation: 45,
      user: `${slug}.app`,
      authResponse: Buffer.alloc(0),
      database: "main",
      authPlugin: NATIVE_PASSWORD,
      connectAttributes: null,
    },
    route,
    stage1: crypto.createHash("sha1").update(password).digest(),
    arrivedAt,
  };
}

const stateOf = async (computeId: string) => (await db.compute.findUniqueOrThrow({ where: { id: computeId } })).state;

describe("proxy attach", () => {
  it("wakes a paused compute and logs the session in; the same session attaches again to a new connection", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    expect(await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" })).not.toBeNull();
    const ctx = context();
    const session = await sessionFor(ctx, c.slug, c.password);

    const first = await attachCompute(ctx, session, Date.now() + 15_000);
    backends.push(first.backend);
    expect(first.wokeFrom).toBe("paused");
    expect(first.backend.ok[0]).toBe(0x00); // the compute's OK for the role's login
    expect(await stateOf(c.computeId)).toBe("running");

    // Re-attach: the session's route facts are older than this attach, so they are read again (running).
    const again = await attachCompute(ctx, session, Date.now() + 15_000, Date.now());
    backends.push(again.backend);
    expect(again.wokeFrom).toBeNull();
    expect(again.backend.ok[0]).toBe(0x00);
    expect(again.backend.greeting.connectionId).not.toBe(first.backend.greeting.connectionId);
    expect(ctx.wakes).toEqual(["paused"]);

    const ops = await call<{ operations: { kind: string; actor: string; status: string }[] }>("GET", `/api/v1/projects/${c.projectId}/operations`, { key: tenant.key });
    expect(ops.body.operations.filter((o) => o.kind === "resume_compute")).toEqual([expect.objectContaining({ actor: "proxy", status: "succeeded" })]);
  });

  it("decides on facts read after the client came: a compute suspended since its route was cached is started", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const ctx = context();
    const cached = await sessionFor(ctx, c.slug, c.password);
    expect(cached.route.compute?.row.state).toBe("running");
    await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });
    const arrived = { ...cached, arrivedAt: Date.now() + 1 }; // a client after the route was read

    const attached = await attachCompute(ctx, arrived, Date.now() + 30_000);
    backends.push(attached.backend);
    expect(attached.wokeFrom).toBe("suspended");
    expect(attached.backend.ok[0]).toBe(0x00);
    expect(await stateOf(c.computeId)).toBe("running");
  });

  it("serves the next client of a paused compute whose process died meanwhile, with its data", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const direct = await connectDirect(c.endpoint, c.password);
    await direct.query("CREATE TABLE kept (n INT)");
    await direct.query("INSERT INTO kept VALUES (7)");
    await direct.end();
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    expect(await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" })).not.toBeNull();
    const pid = pidOf(inject("dataDir"), c.computeId)!;
    process.kill(pid, "SIGKILL");
    while (processAlive(pid)) await new Promise((r) => setTimeout(r, 10));

    // Whoever notices first (this client's thaw, or the reconciler), the client gets a started server.
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    const [rows] = await conn.query("SELECT n FROM kept");
    expect(rows).toEqual([{ n: 7 }]);
    await conn.end();
    expect(await stateOf(c.computeId)).toBe("running");
  });

  it("refuses a wrong password at the compute, after syncing the roles once", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const ctx = context();
    const session = await sessionFor(ctx, c.slug, "not the password");
    const error = await attachCompute(ctx, session, Date.now() + 15_000).then(
      (a) => (backends.push(a.backend), null),
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 1045, kind: "backend_refused" });
  });
});
