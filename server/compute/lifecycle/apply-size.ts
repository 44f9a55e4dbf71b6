import { logger } from "../../logger";
import { getComputeById } from "../find-compute";
import { actorName, computeFor, type Actor } from "./actor";
import { settle } from "./settle";
import { suspendCompute } from "./suspend";
import { wakeFrom } from "./wake";

// A new size takes effect on the server itself, not only on the bill. MariaDB cannot change its buffer
// pool's upper bound or our command line online, so a running server is restarted at the new size (one
// `restart_compute` operation whose reason names the change); its CPU and memory limits are the kernel's
// and follow the restart. A paused server holds the old size frozen in memory: it is stopped (it would
// otherwise wake at the old size), and its next wake starts it at the new one. A suspended compute simply
// starts at the new size.
//
// Billing follows what runs: the running interval at the old size ends when the restart begins, the
// restart itself is billed at the larger of the two sizes (both servers may exist for a moment), and the
// new size from the moment the restarted server runs. A paused or suspended compute is not billed.

const SETTLE_MS = 60_000;

export async function applySize(input: { actor: Actor; computeId: string; from: number; to: number }) {
  const reason = `size changed from ${input.from} to ${input.to} CU`;
  const { id } = await computeFor(input.actor, input.computeId);
  // A transition under way (a wake, say) finishes first; it may have started the server at either size.
  const settled = (await settle(id, Date.now() + SETTLE_MS)) ?? (await getComputeById(id));
  try {
    if (settled.state === "running") {
      await wakeFrom(settled, {
        actor: actorName(input.actor),
        kind: "restart_compute",
        reason: `${reason}: restarted to run at the new size`,
        // A restart is not a new wake: the quota does not stop a running compute.
        skipQuotaCheck: true,
        usageSize: Math.max(input.from, input.to),
      });
    } else if (settled.state === "paused") {
      await suspendCompute({
        actor: input.actor,
        computeId: id,
        reason: `${reason}: the paused server is stopped; the next wake starts it at the new size`,
        expectVersion: settled.version,
      });
    }
  } catch (error) {
    // The size is stored; the failed restart is on the operations log and the compute can be resumed.
    logger.warn({ computeId: id, err: String(error) }, "applying a new size failed");
  }
  return getComputeById(id);
}
