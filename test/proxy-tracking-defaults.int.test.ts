import type { Connection, RowDataPacket } from "mysql2/promise";
import { describe, expect, it } from "vitest";
import { newTenant } from "./api";
import { parkingCompute, sessionsWhere } from "./parking";
import { connectProxy } from "./proxy";

// Computes start with the session tracking the proxy's follower needs as their defaults, so the proxy
// sends no setup of its own on a new compute connection once it has checked the compute
// (proxy/session-state/tracking-defaults.ts). What a user can see of that: the SET statements a fresh
// session has run (Com_set_option), and that the session is still restored as it was after parking. A
// tenant who gains SUPER (by editing mysql.global_priv, the limit privileges.ts describes) and changes the
// GLOBAL tracking settings where the proxy cannot see it must not get sessions restored wrongly: each is
// pinned where it is, or set up by the proxy.
//
// The proxy runs two workers here (test/global-setup.ts), each checking a compute once for itself, and
// other test files' clients take turns with these: so the checks below hold for whichever worker a
// session lands on.

async function one(conn: Connection, sql: string): Promise<RowDataPacket> {
  const [rows] = await conn.query<RowDataPacket[]>(sql);
  return rows[0]!;
}

/** SET statements run on this session's compute connection so far (the proxy's own setup included). */
const setsSoFar = async (conn: Connection) => Number((await one(conn, "SHOW SESSION STATUS LIKE 'Com_set_option'")).Value);

const NOT_SET_UP = "session tracking is not set up on this connection";
const ATTEMPTS = 6;

describe("proxy: session tracking by the computes' defaults", () => {
  it("skips its setup where the defaults track, and still follows sessions after a tenant with SUPER changed them", async () => {
    const tenant = await newTenant();
    const c = await parkingCompute(tenant);
    const open: Connection[] = [];
    const session = async () => {
      const conn = await connectProxy(`${c.slug}.app`, c.password);
      open.push(conn);
      return { conn, sets: await setsSoFar(conn) };
    };
    /** Statements of the tenant's, on a session of its own that ends before anything parks. */
    const asTenant = async (...statements: string[]) => {
      const conn = await connectProxy(`${c.slug}.app`, c.password);
      try {
        for (const sql of statements) await conn.query(sql);
      } finally {
        conn.destroy(); // without COM_QUIT: its compute connection is closed, not kept for the next session
      }
    };
    /** Opens sessions until one ran `sets` SET statements; all that were opened. */
    const sessionsUntil = async (sets: number) => {
      const opened: { conn: Connection; sets: number }[] = [];
      while (opened.length < ATTEMPTS && opened.at(-1)?.sets !== sets) opened.push(await session());
      expect(opened.map((s) => s.sets)).toContain(sets);
      return opened;
    };
    let zone = 0;
    /** Each session gets a time zone and a user variable of its own; returns what it should read back. */
    const shape = async (conn: Connection) => {
      const expected = { zone: `+0${zone++ % 10}:00`, kept: `session ${zone}` };
      await conn.query(`SET time_zone = '${expected.zone}'`);
      await conn.query(`SET @kept = '${expected.kept}'`);
      return expected;
    };
    const readBack = (conn: Connection) => one(conn, "SELECT @@time_zone AS zone, @kept AS kept");
    try {
      // The first connection a worker makes to the compute is set up, and asks the compute's GLOBAL
      // settings; after that the worker's connections track by the defaults and get no setup.
      const warm = await sessionsUntil(0);
      expect(warm[0]!.sets).toBe(1);
      const byDefault = warm.at(-1)!.conn;
      const byDefaultState = await shape(byDefault);

      // The tenant makes itself all-powerful and narrows the tracked variables globally to autocommit,
      // inside a routine (the proxy sees only CALL).
      await asTenant("UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', 18446744073709551615) WHERE User = 'app'", "FLUSH PRIVILEGES");
      await asTenant("CREATE PROCEDURE main.untrack() SET GLOBAL session_track_system_variables = 'autocommit'", "CALL main.untrack()");

      // New sessions look as before at login (the other settings still show): on a worker that checked,
      // a session gets no setup, and its first SET, reported by nothing, pins it where it is and makes
      // the worker check again. Its next sessions are set up, and followed like any other.
      const shaped: { conn: Connection; sets: number; expected: { zone: string; kept: string } }[] = [];
      while (shaped.length < ATTEMPTS && !(shaped.some((s) => s.sets === 0) && shaped.at(-1)!.sets === 1)) {
        const s = await session();
        shaped.push({ ...s, expected: await shape(s.conn) });
      }
      expect(shaped.map((s) => s.sets)).toContain(0);
      expect(shaped.at(-1)!.sets).toBe(1);
      const untracked = shaped.filter((s) => s.sets === 0);
      await sessionsWhere(tenant, c, "every session parked or pinned", (s) => s.parked + s.pinned === open.length && s.pinned === untracked.length);
      const pins = await sessionsWhere(tenant, c, "the pins reported", (s) => s.pins.length > 0);
      expect(pins.pins.map((p) => ({ reason: p.reason, sessions: p.sessions }))).toEqual([{ reason: NOT_SET_UP, sessions: untracked.length }]);
      expect(await readBack(byDefault)).toEqual(byDefaultState);
      for (const s of shaped) expect(await readBack(s.conn)).toEqual(s.expected);

      // A SET GLOBAL the proxy sees makes it check again: with the defaults back, setups stop again.
      await asTenant("SET GLOBAL session_track_system_variables = '*'");
      await sessionsUntil(0);

      // A compute whose other tracking defaults are off (as one started by an older version) shows it at
      // every login: its sessions are set up, and restored as they were.
      await asTenant("CREATE PROCEDURE main.quiet() SET GLOBAL session_track_state_change = OFF, session_track_transaction_info = OFF", "CALL main.quiet()");
      const old = [await session(), await session()];
      expect(old.map((s) => s.sets)).toEqual([1, 1]);
      const oldStates = [await shape(old[0]!.conn), await shape(old[1]!.conn)];
      await sessionsWhere(tenant, c, "the sessions on the changed compute parked", (s) => s.parked + s.pinned === open.length && s.pinned === untracked.length);
      expect([await readBack(old[0]!.conn), await readBack(old[1]!.conn)]).toEqual(oldStates);
    } finally {
      await Promise.all(open.map((conn) => conn.end().catch(() => undefined)));
    }
  });
});
