import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { startLineClient, type LineClient } from "./line-client";
import { computeOf, parkingCompute, sessionsWhere } from "./parking";
import { connectProxy, proxyPort } from "./proxy";
import { SNAPSHOT_SQL } from "./session-state-helpers";

// Parking (issue 14) with clients other than mysql2: MariaDB Connector/J's own pool (a Java program,
// useServerPrepStmts) and PHP's PDO (native prepares). Each client opens its sessions through the proxy
// with the product's user name `<slug>.<role>`, sets state on each (database, SET NAMES, time_zone,
// isolation, user variables, LAST_INSERT_ID(), a binary prepared statement), reports it, and waits while
// the sessions park and the compute is paused and suspended under them; then it asks again on the same
// connections, executing its prepared statement by the id the server gave it before, and reports again.

const SESSIONS = 3;
const USER_VARIABLES_SQL =
  "SELECT VARIABLE_NAME, VARIABLE_TYPE, VARIABLE_VALUE, CHARACTER_SET_NAME FROM information_schema.USER_VARIABLES ORDER BY VARIABLE_NAME";
const clientsDir = path.join(import.meta.dirname, "clients");

interface Report {
  sessions: { snapshot: (string | null)[][][]; prepared: (string | null)[][] }[];
}

const clients: Record<string, (port: number, user: string, password: string) => [string, string[]]> = {
  "MariaDB Connector/J's pool (Java)": (port, user, password) => [
    "java",
    // One JVM for the whole scenario: the single-file program is compiled in memory at start.
    ["-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", "/usr/share/java/mariadb-java-client.jar", "ParkingClient.java",
      String(port), user, password, String(SESSIONS), SNAPSHOT_SQL, USER_VARIABLES_SQL],
  ],
  "PHP PDO mysql": (port, user, password) => [
    "php",
    ["parking-client.php", String(port), user, password, String(SESSIONS), SNAPSHOT_SQL, USER_VARIABLES_SQL],
  ],
};

let running: LineClient | null = null;
afterEach(() => running?.kill());

describe("proxy: parking sessions of other clients", () => {
  it.each(Object.keys(clients))("%s: sessions park, the compute goes cold under them, and each comes back as it was", async (name) => {
    const tenant = await newTenant();
    const c = await parkingCompute(tenant);
    const setup = await connectProxy(`${c.slug}.app`, c.password);
    await setup.query("CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40))");
    await setup.end();

    const [command, args] = clients[name]!(proxyPort(), `${c.slug}.app`, c.password);
    running = startLineClient(command, args, clientsDir);
    const before = await running.next<Report>();
    expect(before.sessions).toHaveLength(SESSIONS);
    for (const s of before.sessions) {
      // The state took: a database is in use, and the statement sees the session's variables and its row.
      expect(s.snapshot[0]![0]![0]).toBe("main");
      expect(s.prepared).toHaveLength(1);
      expect(s.prepared[0]!.every((v) => v !== null)).toBe(true);
    }
    // Each session has state of its own (so a restore that mixed sessions up would show).
    expect(new Set(before.sessions.map((s) => JSON.stringify(s))).size).toBe(SESSIONS);

    await sessionsWhere(tenant, c, `the ${SESSIONS} sessions parked`, (s) => s.parked === SESSIONS && s.active === 0 && s.pinned === 0);
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    expect(await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" })).not.toBeNull();
    const suspended = await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });
    expect(suspended.status).toBe(200);
    expect((await computeOf(tenant, c.computeId)).state).toBe("suspended");

    running.goOn();
    const after = await running.next<Report>();
    expect(after).toEqual(before);
    expect((await computeOf(tenant, c.computeId)).state).toBe("running");
    expect(await running.exited()).toBe(0);
  }, 120_000);
});
