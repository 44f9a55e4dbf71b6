import { db } from "../db";
import { logger } from "../logger";
import { utcTimestamp } from "../db/sql";
import { defaultDriverName, getDriver } from "../compute/drivers/registry";
import type { DriverState } from "../compute/drivers/types";
import { hourOf } from "./metering";

// Storage metering: each compute's used bytes, sampled once per UTC hour from the scheduler's tick. The
// driver measures (the local driver: statfs of the compute's own file system, microseconds, whether the
// server runs or not; Kubernetes: its volume), so a sample never touches the server. Replica-safe: one
// row per compute and hour (unique key), inserted with skipDuplicates, so two samplers write it once.

/** Computes sampled per tick at most: a large fleet is spread over the hour's first ticks. */
const SAMPLES_PER_TICK = 200;
/** A driver that does not answer by then is skipped this tick (tried again at the next). */
const SAMPLE_TIMEOUT_MS = 2000;

interface Unsampled {
  id: string;
  projectId: string;
  organizationId: string;
  driver: string;
  driverState: unknown;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return Promise.race([promise, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms).unref())]);
}

/** Drivers of this deployment that can measure storage (a compute of another is never sampled here). */
function measuringDrivers(): string[] {
  return [...new Set(["local", defaultDriverName()])].filter((name) => {
    try {
      return typeof getDriver(name).storageBytes === "function";
    } catch {
      return false;
    }
  });
}

/** Sample the computes that have no sample for the current hour yet; returns how many were written. */
export async function sampleStorage(now = new Date()): Promise<number> {
  const hourStart = new Date(hourOf(now.getTime()));
  const computes = await db.$queryRaw<Unsampled[]>`
    SELECT c.id, c."projectId", p."organizationId", c.driver, c."driverState"
    FROM "Compute" c JOIN "Project" p ON p.id = c."projectId"
    WHERE c.state NOT IN ('provisioning', 'deleting') AND c.driver = ANY(${measuringDrivers()})
      AND NOT EXISTS (SELECT 1 FROM "StorageSample" s WHERE s."computeId" = c.id AND s."hourStart" = ${utcTimestamp(hourStart)})
    ORDER BY c.id
    LIMIT ${SAMPLES_PER_TICK}`;
  const measured = await Promise.all(
    computes.map(async (c) => {
      const measure = getDriver(c.driver).storageBytes?.(c.id, c.driverState as DriverState | null);
      const bytes = measure ? await withTimeout(measure, SAMPLE_TIMEOUT_MS).catch(() => null) : null;
      return bytes === null ? null : { computeId: c.id, projectId: c.projectId, organizationId: c.organizationId, hourStart, bytes: BigInt(bytes) };
    }),
  );
  const rows = measured.filter((r) => r !== null);
  if (rows.length === 0) return 0;
  const { count } = await db.storageSample.createMany({ data: rows, skipDuplicates: true });
  logger.debug({ count, hourStart: hourStart.toISOString() }, "storage sampled");
  return count;
}
