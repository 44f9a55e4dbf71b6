import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient, type Prisma } from "./db/generated/client";
import { logger } from "./logger";

// The one Prisma client of the process (DESIGN.md: nothing else creates one). DATABASE_URL is always set by
// the time anything queries: `npm start` and `npm run proxy` resolve the embedded PostgreSQL first and pass
// its URL on. The client is created on first use, and cached on globalThis so Next's dev reloads reuse it.
// Its connection pool is also open to the few hot statements that are worth going without Prisma's work per
// query (dbPool, queryPool, transactionOnPool: the API's project list, the proxy's route read, a thaw's
// compare-and-set, the proxy's activity reports): the same connections, no second pool.

const globalForDb = globalThis as unknown as { __prisma?: PrismaClient; __pgPool?: pg.Pool };

function createClient(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start the product with `npm start`, which provides it");
  const pool = new pg.Pool({ connectionString: url, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
  // An idle connection that breaks (PostgreSQL restarted) is an error event: log it, never crash on it.
  pool.on("error", (error) => logger.warn({ err: error.message }, "idle database connection lost"));
  globalForDb.__pgPool = pool;
  const adapter = new PrismaPg(pool);
  // Secret columns are left out of every result unless a query asks for them by name.
  return new PrismaClient({ adapter, omit: { user: { passwordHash: true }, apiKey: { hash: true } } });
}

export function getDb(): PrismaClient {
  globalForDb.__prisma ??= createClient();
  return globalForDb.__prisma;
}

/**
 * The pool under the Prisma client, for hand-written SQL on a hot path. pg's own type parsers apply (not
 * Prisma's): a `timestamp` column (UTC, without a zone) would read as local time, so select it
 * `AT TIME ZONE 'UTC'` or as text.
 */
export function dbPool(): pg.Pool {
  getDb();
  return globalForDb.__pgPool!;
}

/**
 * A statement built with Prisma.sql, sent on the pool under the client without Prisma's own work per
 * query (dbPool's type parsers apply). For the few statements on a wake's path: there Prisma's work
 * delayed the proxy's event loop by about as much as the round trip itself (a route read took 1.5 ms
 * through $queryRaw, 0.8 ms this way, in a proxy worker between two clients).
 */
export async function queryPool<T extends object>(statement: Prisma.Sql): Promise<T[]> {
  const { rows } = await dbPool().query<T>({ text: statement.text, values: statement.values as unknown[] });
  return rows;
}

/**
 * Statements built with Prisma.sql, in one transaction on one connection of the pool (as queryPool: no
 * work of Prisma's per statement). Answers each statement's row count.
 */
export async function transactionOnPool(statements: Prisma.Sql[]): Promise<number[]> {
  const client = await dbPool().connect();
  let broken: unknown = undefined;
  try {
    await client.query("BEGIN");
    const counts: number[] = [];
    for (const statement of statements) counts.push((await client.query({ text: statement.text, values: statement.values as unknown[] })).rowCount ?? 0);
    await client.query("COMMIT");
    return counts;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError));
    throw error;
  } finally {
    // A connection whose rollback failed is in an unknown state: it leaves the pool.
    client.release(broken instanceof Error ? broken : undefined);
  }
}

/** The client, resolved lazily so importing this module never needs a database. */
export const db: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, prop) {
    const client = getDb();
    const value = Reflect.get(client, prop, client);
    return typeof value === "function" ? value.bind(client) : value;
  },
});

export async function disconnectDb(): Promise<void> {
  const client = globalForDb.__prisma;
  const pool = globalForDb.__pgPool;
  globalForDb.__prisma = undefined;
  globalForDb.__pgPool = undefined;
  await client?.$disconnect();
  await pool?.end();
}

export { Prisma } from "./db/generated/client";
export type * from "./db/generated/client";
