import { liveActivity } from "../proxy-activity/live-activity";
import { presentCompute, type ComputeReply } from "./present";
import type { Compute } from "../db";

/** presentCompute with the proxies' live connection count and last activity (reads Postgres only). */
export async function presentComputeWithActivity(compute: Compute): Promise<ComputeReply> {
  const activity = await liveActivity([compute.id]);
  return presentCompute(compute, activity.get(compute.id));
}

/** The same for many computes, in one query. */
export async function presentComputesWithActivity(computes: Compute[]): Promise<ComputeReply[]> {
  const activity = await liveActivity(computes.map((c) => c.id));
  return computes.map((c) => presentCompute(c, activity.get(c.id)));
}
