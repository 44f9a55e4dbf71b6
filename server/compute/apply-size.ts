import { logger } from "../logger";
import { getComputeById } from "./find-compute";
import { wakeCompute } from "./resume-compute";
import { suspendCompute } from "./suspend-compute";
import { waitForSettled } from "./wait-for-settled";

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

export async function applySize(input: { computeId: string; from: number; to: number; actor: string }) {
  const reason = `size changed from ${input.from} to ${input.to} CU`;
  // A transition under way (a wake, say) finishes first; it may have started the server at either size.
  const settled = (await waitForSettled(input.computeId, SETTLE_MS)) ?? (await getComputeById(input.computeId));
  try {
    if (settled.state === "running") {
      await wakeCompute(settled, {
        computeId: settled.id,
        actor: input.actor,
        kind: "restart_compute",
        reason: `${reason}: restarted to run at the new size`,
        usageSize: Math.max(input.from, input.to),
      });
    } else if (settled.state === "paused") {
      await suspendCompute({
        computeId: settled.id,
        actor: input.actor,
        reason: `${reason}: the paused server is stopped; the next wake starts it at the new size`,
        expectVersion: settled.version,
      });
    }
  } catch (error) {
    // The size is stored; the failed restart is on the operations log and the compute can be resumed.
    logger.warn({ computeId: input.computeId, err: String(error) }, "applying a new size failed");
  }
  return getComputeById(input.computeId);
}
