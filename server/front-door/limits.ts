import { db, Prisma } from "../db";
import { logger } from "../logger";

// Leaky buckets in PostgreSQL, one row per key (FrontDoorLimit), so every app replica counts the same
// attempts. A bucket's level drains at `perHour` per hour; an attempt adds 1. While the level stays within
// `perHour` nothing is slowed down (a team behind one address gets its allowance every hour); each attempt
// past it backs the key off for 1 s, doubling with each further one, up to `maxBackoffSeconds`. While a
// key is backed off its attempts are refused and not counted. Every update is one SQL statement, so
// concurrent attempts on one key are counted one after the other.

export interface Limit {
  key: string;
  /** Attempts per hour before backoff; also the rate at which the level drains. */
  perHour: number;
  maxBackoffSeconds: number;
}

/** The longest wait, in whole seconds, among the keys that are backed off now; 0 when none is. */
export async function waitSeconds(keys: string[]): Promise<number> {
  const rows = await db.$queryRaw<{ wait: number | null }[]>`
    SELECT ceil(extract(epoch FROM max("blockedUntil") - now()))::int AS wait
    FROM "FrontDoorLimit" WHERE "key" = ANY(${keys}) AND "blockedUntil" > now()`;
  return Math.max(0, rows[0]?.wait ?? 0);
}

/** Count one attempt under the limit's key, unless the key is backed off: then the seconds to wait. */
export async function take(limit: Limit): Promise<number> {
  pruneLater();
  const perHour = Prisma.sql`${limit.perHour}::float8`;
  const level = Prisma.sql`(GREATEST(0, l."level" - extract(epoch FROM now() - l."updatedAt") * ${perHour} / 3600.0) + 1)`;
  const backoff = (lvl: Prisma.Sql) => Prisma.sql`CASE WHEN ${lvl} > ${perHour}
    THEN now() + make_interval(secs => LEAST(${limit.maxBackoffSeconds}::float8, power(2, ${lvl} - ${perHour} - 1))) END`;
  const counted = await db.$queryRaw<{ level: number }[]>`
    INSERT INTO "FrontDoorLimit" AS l ("key", "level", "updatedAt", "blockedUntil")
    VALUES (${limit.key}, 1, now(), ${backoff(Prisma.sql`1`)})
    ON CONFLICT ("key") DO UPDATE SET "level" = ${level}, "updatedAt" = now(), "blockedUntil" = ${backoff(level)}
    WHERE l."blockedUntil" IS NULL OR l."blockedUntil" <= now()
    RETURNING "level"`;
  if (counted.length > 0) return 0;
  return Math.max(1, await waitSeconds([limit.key]));
}

/** Take back one counted attempt (it turned out to be a success), lifting the backoff it may have begun. */
export async function refund(limit: Limit): Promise<void> {
  await db.$executeRaw`
    UPDATE "FrontDoorLimit" SET
      "level" = GREATEST(0, "level" - 1),
      "blockedUntil" = CASE WHEN "level" - 1 > ${limit.perHour}::float8 THEN "blockedUntil" END
    WHERE "key" = ${limit.key}`;
}

/** Forget a key (an account's failures after it signed in). */
export async function reset(key: string): Promise<void> {
  await db.frontDoorLimit.deleteMany({ where: { key } });
}

/** Delete buckets untouched for a day and not backed off (every bucket has drained by then). */
export async function pruneFrontDoorLimits(): Promise<number> {
  return db.$executeRaw`
    DELETE FROM "FrontDoorLimit"
    WHERE "updatedAt" < now() - interval '1 day' AND ("blockedUntil" IS NULL OR "blockedUntil" < now())`;
}

// Pruning is lazy: at most every ten minutes per process, in the background of an attempt.
const PRUNE_EVERY_MS = 10 * 60_000;
let lastPrune = 0;
function pruneLater(): void {
  if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
  lastPrune = Date.now();
  pruneFrontDoorLimits().catch((err: unknown) => logger.warn({ err: String(err) }, "pruning front-door limits failed"));
}
