import { db, type Compute } from "../../db";
import { logger } from "../../logger";
import { isTransitional } from "@/lib/compute-states";
import type { OperationKind } from "../../db/generated/enums";
import { finishDelete, startAndRecordRunning, stopAndRecordSuspended } from "./finish";
import { claimTransition } from "./transition";

// Finish a transition whose owner died (its lease ran out). Used by a request that waited for the
// transition (settle.ts) and by the reconciler alike; the claim makes sure only one of them carries on.

/** Who is on the record for a transition nobody else's operation covers. */
const TAKER = "reconciler";

/**
 * The operation a dead replica left running for this transition, or a new one when none is left (so every
 * transition finished here is on the record).
 */
async function operationToFinish(compute: Compute, kinds: [OperationKind, ...OperationKind[]]): Promise<string> {
  const op = await db.operation.findFirst({
    where: { computeId: compute.id, status: "running", kind: { in: kinds } },
    orderBy: { createdAt: "desc" },
    select: { id: true },
  });
  if (op) return op.id;
  const project = await db.project.findUniqueOrThrow({ where: { id: compute.projectId }, select: { organizationId: true } });
  const created = await db.operation.create({
    data: {
      organizationId: project.organizationId,
      projectId: compute.projectId,
      computeId: compute.id,
      kind: kinds[0],
      actor: TAKER,
      reason: `finishing a ${compute.state} transition whose owner stopped`,
    },
    select: { id: true },
  });
  return created.id;
}

/**
 * Claim the row's expired transition and roll it forward: a create or a resume starts the server (a
 * start is idempotent: a process still up is adopted), a suspend stops it, a delete destroys it. Does
 * nothing when the lease has not run out or another taker claimed it first. Failures are on the row and
 * the operation (`failed`), and in the log; they are not thrown, since the taker was not the one asking.
 */
export async function takeOverTransition(compute: Compute): Promise<void> {
  if (!isTransitional(compute.state)) return;
  const claimed = await claimTransition(compute);
  if (!claimed) return;
  const done = (async () => {
    switch (claimed.state) {
      case "provisioning":
        return startAndRecordRunning({
          compute: claimed,
          operationId: await operationToFinish(claimed, ["create_compute"]),
          version: claimed.version,
          from: "provisioning",
        });
      case "resuming":
        return startAndRecordRunning({
          compute: claimed,
          operationId: await operationToFinish(claimed, ["resume_compute", "restart_compute"]),
          version: claimed.version,
          from: "resuming",
        });
      case "suspending":
        return stopAndRecordSuspended({
          compute: claimed,
          operationId: await operationToFinish(claimed, ["suspend_compute"]),
          version: claimed.version,
          killSessions: false,
        });
      case "deleting":
        return finishDelete({ compute: claimed, operationId: null });
    }
  })();
  await done.catch((error: unknown) => logger.warn({ computeId: compute.id, state: compute.state, err: String(error) }, "taking over a transition failed"));
}
