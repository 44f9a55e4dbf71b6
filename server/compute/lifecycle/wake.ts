import { db, type Compute } from "../../db";
import { assertMayRun } from "../../billing/may-run";
import type { OperationKind } from "../../db/generated/enums";
import { startAndRecordRunning } from "./finish";
import { beginTransition } from "./transition";

// The first half of a wake, shared by the verbs that bring a compute to `running` from where it stands:
// resume (paused, suspended, failed), pause undoing itself (paused), a size change (running: a restart).

export interface WakeOptions {
  actor: string;
  reason: string | null;
  /** restart_compute for a restart (a size change); resume_compute otherwise. */
  kind?: OperationKind;
  /** Undoing a pause or restarting a running compute is not a new wake: no quota check. */
  skipQuotaCheck?: boolean;
  /** Bill the `resuming` interval at this size instead of the compute's (a restart for a size change). */
  usageSize?: number;
}

/**
 * Win the compare-and-set out of the row's state (as read) into `resuming`, then start or thaw the server
 * and record `running` (finish.ts). Returns the operation's id, or null when another writer moved the
 * compute first (the caller reads again and decides again).
 */
export async function wakeFrom(compute: Compute, options: WakeOptions): Promise<string | null> {
  if (!options.skipQuotaCheck) {
    // Waking costs compute time: refused past the month's quota or the spend cap.
    const { organizationId } = await db.project.findUniqueOrThrow({ where: { id: compute.projectId }, select: { organizationId: true } });
    await assertMayRun(organizationId);
  }
  const operationId = await beginTransition({
    computeId: compute.id,
    version: compute.version,
    from: compute.state,
    to: "resuming",
    kind: options.kind ?? "resume_compute",
    actor: options.actor,
    reason: options.reason,
    usageSize: options.usageSize,
  });
  if (!operationId) return null;
  await startAndRecordRunning({ compute, operationId, version: compute.version + 1, from: "resuming", thaw: compute.state === "paused" });
  return operationId;
}
