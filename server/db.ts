import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./db/generated/client";

// The one Prisma client of the process (DESIGN.md: nothing else creates one). DATABASE_URL is always set by
// the time anything queries: `npm start` and `npm run proxy` resolve the embedded PostgreSQL first and pass
// its URL on. The client is created on first use, and cached on globalThis so Next's dev reloads reuse it.

const globalForDb = globalThis as unknown as { __prisma?: PrismaClient };

function createClient(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: start the product with `npm start`, which provides it");
  const adapter = new PrismaPg({ connectionString: url, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
  // Secret columns are left out of every result unless a query asks for them by name.
  return new PrismaClient({ adapter, omit: { user: { passwordHash: true }, apiKey: { hash: true } } });
}

export function getDb(): PrismaClient {
  globalForDb.__prisma ??= createClient();
  return globalForDb.__prisma;
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
  globalForDb.__prisma = undefined;
  await client?.$disconnect();
}

export { Prisma } from "./db/generated/client";
export type * from "./db/generated/client";
