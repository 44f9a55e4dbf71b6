import { isTransitional } from "@/lib/compute-states";
import { AppError } from "../errors";
import { getComputeById } from "./find-compute";

const POLL_MS = 20;

/**
 * Wait until no replica is in the middle of moving the compute (DESIGN.md: a request that meets a
 * transition waits for it). Returns the settled row; null when the wait ran out or the lease expired (the
 * owner died: the caller may take over through the reconciler's path).
 */
export async function waitForSettled(computeId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const compute = await getComputeById(computeId);
    if (!isTransitional(compute.state)) return compute;
    if (compute.leaseUntil && compute.leaseUntil.getTime() < Date.now()) return compute;
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function stillBusy(state: string): AppError {
  return new AppError("conflict", `the compute is still ${state}; try again in a moment`);
}
