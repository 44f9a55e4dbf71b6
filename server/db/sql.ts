import { Prisma } from "./generated/client";

/**
 * A JS instant as the UTC wall time Prisma keeps in `timestamp(3)` columns, for raw SQL comparisons that
 * must not depend on the database session's time zone.
 */
export function utcTimestamp(date: Date): Prisma.Sql {
  return Prisma.sql`(${date.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;
}
