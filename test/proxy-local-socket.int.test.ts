import os from "node:os";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTenant, type Tenant } from "./api";
import { createProjectWithCompute, createRole, type CreatedCompute } from "./compute";
import { connectProxy, startSecondProxy } from "./proxy";
import type { RunningProxy } from "../proxy/start-proxy";

// The proxy logs in to computes of its own machine through their Unix socket (PROXY_LOCAL_SOCKETS, on by
// default), which MariaDB reports as host 'localhost'; over TCP the host is 127.0.0.1. Accounts matched on
// 'localhost' must never let a tenant in as anyone but its own role.

let tenant: Tenant;
let c: CreatedCompute;
let tcpProxy: RunningProxy;

beforeAll(async () => {
  tenant = await newTenant();
  c = await createProjectWithCompute(tenant);
  tcpProxy = await startSecondProxy({ PROXY_LOCAL_SOCKETS: "0" });
});

afterAll(async () => {
  await tcpProxy?.stop(0).catch(() => undefined);
});

/** USER() (as the server saw the login) and CURRENT_USER() (the account it matched) of a session. */
async function whoAmI(conn: mysql.Connection): Promise<{ user: string; account: string }> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT USER() AS user, CURRENT_USER() AS account");
  await conn.end();
  return { user: String(rows[0]!.user), account: String(rows[0]!.account) };
}

describe("proxy: Unix sockets to local computes", () => {
  it("logs in through the compute's socket by default, and by TCP with PROXY_LOCAL_SOCKETS=0", async () => {
    expect(await whoAmI(await connectProxy(`${c.slug}.app`, c.password))).toEqual({ user: "app@localhost", account: "app@%" });
    const viaTcp = await mysql.createConnection({ host: "127.0.0.1", port: tcpProxy.port, user: `${c.slug}.app`, password: c.password });
    expect(await whoAmI(viaTcp)).toEqual({ user: "app@127.0.0.1", account: "app@%" });
  });

  it("falls back to TCP when the tenant made its own '<role>'@'localhost' account that refuses the login", async () => {
    const password = await createRole(tenant, c.projectId, "reports");
    const admin = await connectProxy(`${c.slug}.app`, c.password);
    await admin.query("CREATE USER 'reports'@'localhost' IDENTIFIED BY 'something else entirely'");
    await admin.end();
    expect(await whoAmI(await connectProxy(`${c.slug}.reports`, password))).toEqual({ user: "reports@127.0.0.1", account: "reports@%" });
  });

  // On the socket, '<the proxy's OS user>'@'localhost' is the control plane's unix_socket admin account.
  const osUser = os.userInfo().username;
  it.runIf(/^[a-z][a-z0-9_]{0,31}$/.test(osUser))(
    `never logs a role named like the proxy's OS user (${osUser}) in through the socket, where it would be the admin`,
    async () => {
      const password = await createRole(tenant, c.projectId, osUser);
      const { user, account } = await whoAmI(await connectProxy(`${c.slug}.${osUser}`, password));
      expect(account).toBe(`${osUser}@%`);
      expect(user).toBe(`${osUser}@127.0.0.1`);
    },
  );
});
