import net from "node:net";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newTenant } from "./api";
import { createProjectWithCompute, type CreatedCompute } from "./compute";
import { startSecondProxy } from "./proxy";
import type { RunningProxy } from "../proxy/start-proxy";

// A second proxy, in this test's own process, against the same database: one that requires TLS, and
// whose SIGTERM-style shutdown drains sessions. Several proxies may serve one database.

const run = promisify(execFile);
let proxy: RunningProxy;
let c: CreatedCompute;

beforeAll(async () => {
  const tlsDir = path.join(inject("dataDir"), "tls");
  proxy = await startSecondProxy({
    PROXY_TLS_CERT: path.join(tlsDir, "proxy.crt"),
    PROXY_TLS_KEY: path.join(tlsDir, "proxy.key"),
    PROXY_TLS_REQUIRED: "1",
  });
  c = await createProjectWithCompute(await newTenant());
});

afterAll(async () => {
  await proxy?.stop(0).catch(() => undefined);
});

const connect = (ssl: boolean) =>
  mysql.createConnection({
    host: "127.0.0.1",
    port: proxy.port,
    user: `${c.slug}.app`,
    password: c.password,
    ...(ssl ? { ssl: { rejectUnauthorized: false } } : {}),
  });

describe("proxy: TLS required and draining", () => {
  it("refuses a client without TLS with a message that says what to do, and admits one with it", async () => {
    await expect(connect(false)).rejects.toThrow(/insecure transport are prohibited.*connect with TLS/);
    const conn = await connect(true);
    expect((await conn.query("SELECT 1 AS ok"))[0]).toEqual([{ ok: 1 }]);
    await conn.end();
    const cli = await run("mariadb", ["--ssl", "-h", "127.0.0.1", "-P", String(proxy.port), "-u", `${c.slug}.app`, `-p${c.password}`, "-N", "-e", "SELECT 2"]);
    expect(cli.stdout.trim()).toBe("2");
  });

  it("stops accepting on shutdown and lets open sessions finish until the drain limit", async () => {
    const conn = await connect(true);
    const stopping = proxy.stop(1500);
    await new Promise((r) => setTimeout(r, 200));
    // new clients are refused at once ...
    await expect(
      new Promise((resolve, reject) => net.connect(proxy.port, "127.0.0.1").once("connect", resolve).once("error", reject)),
    ).rejects.toMatchObject({ code: "ECONNREFUSED" });
    // ... while the open session still works
    expect((await conn.query("SELECT 3 AS n"))[0]).toEqual([{ n: 3 }]);
    await stopping;
    await expect(conn.query("SELECT 4")).rejects.toThrow();
    conn.destroy();
  });
});
