import { liveActivity } from "../proxy-activity/live-activity";
import { presentCompute, type ComputeReply } from "./present";
import { verifyRunning } from "./verify-running";
import type { Compute } from "../db";

/**
 * presentCompute with the proxies' live connection count and last activity, for a row whose `running` has
 * been checked against its workload (verifyRunning).
 */
export async function presentComputeWithActivity(row: Compute): Promise<ComputeReply> {
  const compute = await verifyRunning(row);
  const activity = await liveActivity([compute.id]);
  return presentCompute(compute, activity.get(compute.id));
}
