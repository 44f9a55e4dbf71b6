import { db } from "../db";
import type { SpendCapStatus, SpendThreshold } from "./spend-cap";

// The operations-log event for a spend-cap threshold, once per organization, threshold and month: the
// SpendAlert row's primary key decides, so two replicas (or two ticks) that both see 80 % write one alert
// and one operation, in the same transaction.

/**
 * No amounts: every member (viewers too) reads a project's operations log, while spend and cap are for owners
 * and admins (the Billing page).
 */
export function spendAlertReason(threshold: SpendThreshold): string {
  const seeAmounts = "owners and admins see the amounts on the Billing page";
  return threshold === 100
    ? `the organization reached its monthly spend cap (100 %); computes are suspended and not woken until the cap is raised or the month turns; ${seeAmounts}`
    : `the organization reached 80 % of its monthly spend cap; at 100 % computes are suspended until the cap is raised or the month turns; ${seeAmounts}`;
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
        data: { organizationId, kind: "spend_threshold", status: "succeeded", actor: "scheduler", reason: spendAlertReason(threshold), finishedAt: now, createdAt: now },
      });
      return true;
    });
    if (created) recorded.push(threshold);
  }
  return recorded;
}
