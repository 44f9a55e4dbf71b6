import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTenant } from "./api";
import { createProjectWithCompute, type CreatedCompute } from "./compute";
import { connectProxy, startSecondProxy } from "./proxy";
import type { RunningProxy } from "../proxy/start-proxy";
import { PROXY_SLOT_SIZE } from "../server/proxy-activity/constants";

// Several proxies serve one database, usually behind one address: the `mariadb` CLI's Ctrl-C sends its
// KILL QUERY on a new connection, which may reach another proxy than the session's. Connection ids are
// unique across proxies (each has its own slot of ids), and the slot's proxy is asked through PostgreSQL
// (young sessions and pools: test/proxy-kill-young.int.test.ts).

let other: RunningProxy;
let c: CreatedCompute;

beforeAll(async () => {
  other = await startSecondProxy();
  c = await createProjectWithCompute(await newTenant());
});

afterAll(async () => {
  await other?.stop(0).catch(() => undefined);
});

const connectOther = (slug: string, password: string) =>
  mysql.createConnection({ host: "127.0.0.1", port: other.port, user: `${slug}.app`, password, database: "main" });

describe("proxy: KILL through another proxy", () => {
  it("cancels a session's query with a KILL QUERY sent through a different proxy", async () => {
    const session = await connectProxy(`${c.slug}.app`, c.password);
    const killer = await connectOther(c.slug, c.password);
    // Different proxies, different id blocks.
    expect(Math.floor(session.threadId! / PROXY_SLOT_SIZE)).not.toBe(Math.floor(killer.threadId! / PROXY_SLOT_SIZE));
    const slow = session.query("SELECT SLEEP(20) AS slept");
    slow.catch(() => undefined); // handled below; it may fail before the KILL's own reply arrives
    const started = Date.now();
    await killer.query(`KILL QUERY ${session.threadId}`);
    await expect(slow).rejects.toMatchObject({ errno: 1317 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await session.query("SELECT 1 AS ok"))[0]).toEqual([{ ok: 1 }]);
    await session.end();
    await killer.end();
  });

  it("does not let a KILL through another proxy reach another project's session", async () => {
    const stranger = await createProjectWithCompute(await newTenant());
    const session = await connectProxy(`${c.slug}.app`, c.password);
    const killer = await connectOther(stranger.slug, stranger.password);
    await expect(killer.query(`KILL ${session.threadId}`)).rejects.toMatchObject({ errno: 1094 });
    expect((await session.query("SELECT 2 AS ok"))[0]).toEqual([{ ok: 2 }]);
    await session.end();
    await killer.end();
  });
});
