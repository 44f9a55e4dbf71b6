import os from "node:os";
import mariadb from "mariadb";
import type mysql from "mysql2/promise";
import { beforeAll, describe, expect, it } from "vitest";
import { newTenant, type Tenant } from "./api";
import { createProjectWithCompute, createRole, type CreatedCompute } from "./compute";
import { connectProxy, proxyPort } from "./proxy";

// COM_CHANGE_USER through the proxy (mysql2's changeUser, the mariadb connector's, PHP's
// mysqli_change_user, pools that reset connections with it): the proxy checks the new role's password
// itself and re-authenticates the compute session as that role; refusals leave the session as it was.

let tenant: Tenant;
let c: CreatedCompute;
let reportingPassword: string;

beforeAll(async () => {
  tenant = await newTenant();
  c = await createProjectWithCompute(tenant);
  reportingPassword = await createRole(tenant, c.projectId, "reporting");
});

async function currentUser(conn: mysql.Connection): Promise<string> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT CURRENT_USER() AS account");
  return String(rows[0]!.account);
}

describe("proxy: COM_CHANGE_USER", () => {
  it("switches a session to another role of the project and back (mysql2), on the same compute session", async () => {
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    const [[before]] = await conn.query<mysql.RowDataPacket[]>("SELECT CONNECTION_ID() AS id");
    await conn.changeUser({ user: `${c.slug}.reporting`, password: reportingPassword });
    expect(await currentUser(conn)).toBe("reporting@%");
    const [[after]] = await conn.query<mysql.RowDataPacket[]>("SELECT CONNECTION_ID() AS id");
    expect(after!.id).toBe(before!.id);
    await conn.changeUser({ user: `${c.slug}.app`, password: c.password, database: "main" });
    expect(await currentUser(conn)).toBe("app@%");
    await conn.end();
  });

  it("works over TLS as well", async () => {
    const conn = await connectProxy(`${c.slug}.app`, c.password, { ssl: { rejectUnauthorized: false } });
    await conn.changeUser({ user: `${c.slug}.reporting`, password: reportingPassword });
    expect(await currentUser(conn)).toBe("reporting@%");
    // The client side really is TLS (the proxy's stream path, not the reused-buffer relay).
    expect((conn as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream.encrypted).toBe(true);
    await conn.end();
  });

  it("refuses a wrong password with 1045 and keeps the session as the role it was", async () => {
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    await expect(conn.changeUser({ user: `${c.slug}.reporting`, password: "not the password" })).rejects.toMatchObject({
      errno: 1045,
      message: expect.stringContaining(`Access denied for user '${c.slug}.reporting'`),
    });
    expect(await currentUser(conn)).toBe("app@%");
    await conn.end();
  });

  it("refuses a role of another project with a message that says why", async () => {
    const other = await createProjectWithCompute(tenant);
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    await expect(conn.changeUser({ user: `${other.slug}.app`, password: other.password })).rejects.toMatchObject({
      errno: 1045,
      message: expect.stringContaining("open a new connection"),
    });
    expect(await currentUser(conn)).toBe("app@%");
    await conn.end();
  });

  it("never switches to a role named like the proxy's OS user on a session that reached its compute by the Unix socket", async () => {
    // There '<that name>'@'localhost' is the control plane's unix_socket account.
    const osUser = os.userInfo().username;
    if (!/^[a-z][a-z0-9_]{0,31}$/.test(osUser)) return; // not a possible role name: nothing to guard
    const password = await createRole(tenant, c.projectId, osUser);
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    const [[how]] = await conn.query<mysql.RowDataPacket[]>("SELECT USER() AS user");
    expect(how!.user).toBe("app@localhost"); // this session went through the socket
    await expect(conn.changeUser({ user: `${c.slug}.${osUser}`, password })).rejects.toMatchObject({
      errno: 1045,
      message: expect.stringContaining("not possible on this connection"),
    });
    expect(await currentUser(conn)).toBe("app@%");
    await conn.end();
  });

  it("works with the mariadb connector, queries pipelined behind it included", async () => {
    const conn = await mariadb.createConnection({ host: "127.0.0.1", port: proxyPort(), user: `${c.slug}.app`, password: c.password, database: "main" });
    const switched = conn.changeUser({ user: `${c.slug}.reporting`, password: reportingPassword });
    const asked = conn.query("SELECT CURRENT_USER() AS account"); // sent right behind the COM_CHANGE_USER
    await switched;
    expect(await asked).toEqual([{ account: "reporting@%" }]);
    await conn.end();
  });
});
