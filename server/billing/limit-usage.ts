import { db } from "../db";
import type { PlanLimits } from "./plans";
import type { SpendCapStatus } from "./spend-cap";

// Each of the organization's limits beside how much of it is used, for the billing reply and page: the
// plan's limits, plus the organization's own spend cap.

export interface LimitUse {
  limit: keyof PlanLimits | "spendCapUsd";
  /** null: no limit. */
  max: number | null;
  used: number;
  unit: string;
}

export async function limitUsage(args: {
  organizationId: string;
  limits: PlanLimits;
  projects: number;
  cuHours: number;
  cap: SpendCapStatus;
}): Promise<LimitUse[]> {
  const { organizationId, limits } = args;
  const [largest, storage] = await Promise.all([
    db.compute.aggregate({ where: { project: { organizationId }, state: { not: "deleting" } }, _max: { size: true } }),
    // Each compute's latest hourly sample; the fullest one is what meets the per-compute limit first.
    db.$queryRaw<{ bytes: bigint | null }[]>`
      SELECT MAX(bytes) AS bytes FROM (
        SELECT DISTINCT ON (s."computeId") s.bytes
        FROM "StorageSample" s JOIN "Compute" c ON c.id = s."computeId"
        WHERE s."organizationId" = ${organizationId}
        ORDER BY s."computeId", s."hourStart" DESC) latest`,
  ]);
  return [
    { limit: "projects", max: limits.projects, used: args.projects, unit: "projects" },
    { limit: "cuHoursPerMonth", max: limits.cuHoursPerMonth, used: args.cuHours, unit: "CU-hours this month" },
    { limit: "maxComputeSize", max: limits.maxComputeSize, used: largest._max.size ?? 0, unit: "CU (largest compute)" },
    { limit: "storageBytesPerCompute", max: limits.storageBytesPerCompute, used: Number(storage[0]?.bytes ?? 0), unit: "bytes (fullest compute)" },
    { limit: "spendCapUsd", max: args.cap.capUsd, used: args.cap.spentUsd, unit: "USD this month" },
  ];
}
