import { AppError } from "../../errors";
import { getComputeById } from "../find-compute";
import { latestOperationId } from "../latest-operation";
import { computeFor, actorName, type Actor } from "./actor";
import type { LifecycleResult } from "./result";
import { settle } from "./settle";
import { wakeFrom } from "./wake";

export interface ResumeInput {
  actor: Actor;
  computeId: string;
  reason: string | null;
  /** How long to wait for a transition someone else is making; after that the reply is "still going". */
  waitMs?: number;
}

/**
 * Bring a compute to `running`, whatever state it is in: thaw a paused one, start a suspended or failed one,
 * wait for one that is moving. However many callers race, one wins the compare-and-set and does the work;
 * the others wait for its result (so 30 concurrent resumes start the process once).
 */
export async function resumeCompute(input: ResumeInput): Promise<LifecycleResult> {
  const deadline = Date.now() + (input.waitMs ?? 60_000);
  let compute = await computeFor(input.actor, input.computeId);
  for (;;) {
    switch (compute.state) {
      case "running":
        return { compute, operationId: await latestOperationId(compute.id), pending: false };
      case "deleting":
        throw new AppError("conflict", "the compute is being deleted");
      case "paused":
      case "suspended":
      case "failed": {
        const operationId = await wakeFrom(compute, { actor: actorName(input.actor), reason: input.reason });
        if (operationId) return { compute: await getComputeById(compute.id), operationId, pending: false };
        compute = await getComputeById(compute.id); // lost the race: look again
        break;
      }
      default: {
        const settled = await settle(compute.id, deadline);
        if (!settled) return { compute: await getComputeById(compute.id), operationId: await latestOperationId(compute.id), pending: true };
        compute = settled;
      }
    }
  }
}
