import mysql from "mysql2/promise";
import type { Target } from "./lib";

// Client connections that start parked, for bench:sessions: each opened to a paused or suspended compute
// (the proxy logs it in itself, no compute connection) and validated with `SELECT 1`, as a pool validates a
// new connection (on a parked session the proxy answers it: nothing wakes).

/** Failed connects after which an opener stops (and says why they failed). */
const MAX_FAILURES = 50;

export interface OpenOptions {
  budgetMs: number;
  /** Connections logging in at once; each opener connects again once its last one is validated. */
  atOnce: number;
  /** The client address to connect from (one of 127.0.0.0/8 on this machine). */
  localAddress?: string;
}

export interface Opened {
  held: mysql.Connection[];
  /** Failed connects by message. */
  failures: Map<string, number>;
}

/** Open up to `count` parked sessions; stops at the budget or after MAX_FAILURES failed connects. */
export async function openParked(target: Target, count: number, o: OpenOptions): Promise<Opened> {
  const held: mysql.Connection[] = [];
  const failures = new Map<string, number>();
  let failed = 0;
  const deadline = performance.now() + o.budgetMs;
  let started = 0;
  const opener = async () => {
    while (started < count && failed < MAX_FAILURES && performance.now() < deadline) {
      started++;
      try {
        // mysql2 sizes each connection's prepared-statement cache up front (4 arrays of maxPreparedStatements,
        // 16,000 by default: 0.5 MiB a connection, 5 GiB for 10,000, past a process's heap); these run none.
        const conn = await mysql.createConnection({ ...target, localAddress: o.localAddress, connectTimeout: 60_000, maxPreparedStatements: 1 });
        conn.on("error", () => undefined); // a held connection that breaks shows in the final ping
        await conn.query("SELECT 1");
        held.push(conn);
      } catch (error) {
        failed++;
        const message = error instanceof Error ? error.message : String(error);
        failures.set(message, (failures.get(message) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: o.atOnce }, opener));
  return { held, failures };
}

/** How many of the sessions answer COM_PING (on a parked session the proxy answers: nothing wakes). */
export async function answering(held: mysql.Connection[]): Promise<number> {
  const answers = await Promise.all(held.map((conn) => conn.ping().then(() => 1, () => 0)));
  return answers.reduce<number>((s, n) => s + n, 0);
}
