import { db } from "../db";
import { usd } from "@/lib/format";
import type { SpendCapStatus, SpendThreshold } from "./spend-cap";

// The operations-log event for a spend-cap threshold, once per organization, threshold and month: the
// SpendAlert row's primary key decides, so two replicas (or two ticks) that both see 80 % write one alert
// and one operation, in the same transaction.

export function spendAlertReason(threshold: SpendThreshold, status: SpendCapStatus): string {
  const base = `spend: ${usd(status.spentUsd)} of the ${usd(status.capUsd ?? 0)} monthly spend cap (${threshold} %) spent this month`;
  return threshold === 100
    ? `${base}; computes are suspended and not woken until the cap is raised or the month turns`
    : `${base}; at 100 % computes are suspended until the cap is raised or the month turns`;
}

/** Record each threshold the status has reached this month that was not recorded yet; returns the new ones. */
export async function recordSpendAlerts(organizationId: string, status: SpendCapStatus): Promise<SpendThreshold[]> {
  if (status.threshold === null || status.capUsd === null) return [];
  const reached: SpendThreshold[] = status.threshold === 100 ? [80, 100] : [80];
  const recorded: SpendThreshold[] = [];
  for (const threshold of reached) {
    const created = await db.$transaction(async (tx) => {
      const inserted = await tx.spendAlert.createMany({
        data: [{ organizationId, month: new Date(status.month), threshold, capUsd: status.capUsd!, spentUsd: status.spentUsd }],
        skipDuplicates: true,
      });
      if (inserted.count === 0) return false;
      const now = new Date();
      await tx.operation.create({
        data: { organizationId, kind: "spend_threshold", status: "succeeded", actor: "scheduler", reason: spendAlertReason(threshold, status), finishedAt: now, createdAt: now },
      });
      return true;
    });
    if (created) recorded.push(threshold);
  }
  return recorded;
}
