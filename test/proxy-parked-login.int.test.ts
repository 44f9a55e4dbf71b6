import mysql, { type Connection, type RowDataPacket } from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import type { ComputeSessions } from "../lib/api-types";
import { db } from "../server/db";
import { call, newTenant, type Tenant } from "./api";
import { connectDirect, createProjectWithCompute, waitFor, type CreatedCompute } from "./compute";
import { connectProxy, connectProxyWithServerName, rejection, startSecondProxy } from "./proxy";
import type { RunningProxy } from "../proxy/start-proxy";

// New connections to a sleeping compute (issue 14, item 5): the proxy checks the password itself and the
// session starts parked, so a pool replacing its connections wakes nothing; pings and validation queries
// are answered by the proxy, and the first real command wakes the compute and runs with the login's
// database. Each compute here is set up through its own endpoint, so the proxy's route cache has never
// seen it running.

async function stateOf(computeId: string): Promise<string> {
  return (await db.compute.findUniqueOrThrow({ where: { id: computeId }, select: { state: true } })).state;
}

async function sessionsOf(tenant: Tenant, computeId: string): Promise<ComputeSessions> {
  const res = await call<{ compute: { sessions: ComputeSessions } }>("GET", `/api/v1/compute/${computeId}`, { key: tenant.key });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body.compute.sessions;
}

/**
 * Pause the compute. A pause's last look undoes it while a client thread is still on the server, as the
 * setup connection's may be for a moment after it closed: then it is paused again.
 */
async function pause(c: CreatedCompute): Promise<void> {
  const { pauseCompute } = await import("../server/compute/lifecycle/pause");
  await waitFor(
    async () => {
      await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" });
      return (await stateOf(c.computeId)) === "paused";
    },
    20_000,
    "the compute paused",
  );
}

/** A compute with a table `items` in its database `main`, put to sleep as `how` before the proxy sees it. */
async function sleepingCompute(tenant: Tenant, how: "paused" | "suspended"): Promise<CreatedCompute> {
  const c = await createProjectWithCompute(tenant);
  const direct = await connectDirect(c.endpoint, c.password);
  await direct.query("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40))");
  await direct.query("INSERT INTO items VALUES (1, 'kept while asleep')");
  await direct.end();
  if (how === "paused") {
    await pause(c);
  } else {
    expect((await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key })).status).toBe(200);
  }
  expect(await stateOf(c.computeId)).toBe(how);
  return c;
}

async function rows(conn: Connection, sql: string): Promise<RowDataPacket[]> {
  const [result] = await conn.query<RowDataPacket[]>(sql);
  return result;
}

describe("proxy: new connections to a sleeping compute start parked", () => {
  for (const how of ["paused", "suspended"] as const) {
    it(`logs in to a ${how} compute and answers pings without waking it; the first real query wakes it with the login's database`, async () => {
      const tenant = await newTenant();
      const c = await sleepingCompute(tenant, how);
      const pool = await Promise.all([0, 1].map(() => connectProxy(`${c.slug}.app`, c.password)));
      expect(await stateOf(c.computeId)).toBe(how);
      await waitFor(async () => (await sessionsOf(tenant, c.computeId)).parked === 2, 20_000, "both new sessions reported parked");

      for (const conn of pool) {
        await conn.ping();
        expect(await rows(conn, "SELECT 1")).toEqual([{ 1: 1 }]);
        await conn.query("DO 1");
      }
      expect(await stateOf(c.computeId)).toBe(how);

      expect(await rows(pool[0]!, "SELECT name, DATABASE() AS db FROM items")).toEqual([{ name: "kept while asleep", db: "main" }]);
      expect(await stateOf(c.computeId)).toBe("running");
      expect(await rows(pool[1]!, "SELECT id, @@autocommit AS autocommit FROM items")).toEqual([{ id: 1, autocommit: 1 }]);
      for (const conn of pool) await conn.end();
    });
  }

  it("starts a TLS session parked the same way", async () => {
    const tenant = await newTenant();
    const c = await sleepingCompute(tenant, "paused");
    const conn = await connectProxyWithServerName(`${c.slug}.db.localhost`, "app", c.password);
    expect(await rows(conn, "SELECT 1")).toEqual([{ 1: 1 }]);
    expect(await stateOf(c.computeId)).toBe("paused");
    expect(await rows(conn, "SELECT name FROM items")).toEqual([{ name: "kept while asleep" }]);
    expect(await stateOf(c.computeId)).toBe("running");
    await conn.end();
  });

  it("still refuses a wrong password without waking the compute", async () => {
    const tenant = await newTenant();
    const c = await sleepingCompute(tenant, "paused");
    const refused = await rejection(connectProxy(`${c.slug}.app`, "not-the-password"));
    expect(refused).toMatchObject({ errno: 1045, message: expect.stringMatching(/Access denied/) });
    expect(await stateOf(c.computeId)).toBe("paused");
  });

  it("answers the first query of a login to a missing database with the compute's own error, and ends the session", async () => {
    const tenant = await newTenant();
    const c = await sleepingCompute(tenant, "paused");
    const conn = await connectProxy(`${c.slug}.app`, c.password, { database: "nowhere" });
    expect(await stateOf(c.computeId)).toBe("paused");
    expect(await rejection(conn.query("SELECT 2"))).toMatchObject({ errno: 1049, message: "Unknown database 'nowhere'" });
    await expect(conn.query("SELECT 3")).rejects.toThrow();
  });

  it("wakes the compute at login, as before, when its sessions do not park", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { parkIdleSessions: false });
    await pause(c);
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    // The login alone wakes it (no query sent). With a pooled connection and a route cached from before the
    // pause, the OK goes out with the connection's ping and the thaw follows within milliseconds
    // (proxy/login-ping.ts): recorded running right after the login rather than before it.
    await waitFor(async () => (await stateOf(c.computeId)) === "running", 5_000, "the login to wake the compute");
    await conn.end();
  });
});

describe("proxy: KILL of a parked session", () => {
  let other: RunningProxy | null = null;
  afterAll(async () => {
    await other?.stop(0).catch(() => undefined);
  });

  it("ends it with KILL CONNECTION from this proxy or another, and leaves it alone with KILL QUERY", async () => {
    const tenant = await newTenant();
    const c = await sleepingCompute(tenant, "paused");
    other = await startSecondProxy();
    const viaOther = await mysql.createConnection({ host: "127.0.0.1", port: other.port, user: `${c.slug}.app`, password: c.password, database: "main" });
    const victims = await Promise.all([0, 1].map(() => connectProxy(`${c.slug}.app`, c.password)));
    // A killed connection's error arrives unasked: mysql2 emits it as an event.
    const errors = victims.map((v) => {
      const seen: unknown[] = [];
      v.on("error", (e) => seen.push(e));
      return seen;
    });
    await waitFor(async () => (await sessionsOf(tenant, c.computeId)).parked === 3, 20_000, "the victims and the other proxy's session reported parked");

    // KILL QUERY: nothing runs on a parked session; it stays, and stays parked.
    await viaOther.query(`KILL QUERY ${victims[0]!.threadId}`);
    expect(await rows(victims[0]!, "SELECT 1")).toEqual([{ 1: 1 }]);

    // KILL CONNECTION from another proxy (asked through PostgreSQL), and from the victims' own proxy.
    await viaOther.query(`KILL CONNECTION ${victims[0]!.threadId}`);
    const killer = await connectProxy(`${c.slug}.app`, c.password);
    await killer.query(`KILL ${victims[1]!.threadId}`);
    await waitFor(async () => errors.every((seen) => seen.length > 0), 10_000, "both killed clients told");
    const killed = expect.objectContaining({ code: 1927, message: "Connection was killed" });
    expect(errors).toEqual([[killed], [killed]]);
    for (const v of victims) await expect(v.query("SELECT 2")).rejects.toThrow();
    // A second KILL of the same id finds nothing.
    await expect(killer.query(`KILL ${victims[1]!.threadId}`)).rejects.toMatchObject({ errno: 1094 });
    // The killers were parked too (new connections to a paused compute): none of it woke the compute.
    expect(await stateOf(c.computeId)).toBe("paused");
    await waitFor(async () => (await sessionsOf(tenant, c.computeId)).parked === 2, 20_000, "only the two killers reported parked");
    await killer.end();
    await viaOther.end();
  });
});
