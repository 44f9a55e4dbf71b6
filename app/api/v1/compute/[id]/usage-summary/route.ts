import { json, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { computeUsageSummary, ComputeUsageQuerySchema } from "@/server/usage/compute-usage";

// GET /api/v1/compute/{id}/usage-summary?days=30 - time running, paused and suspended, what suspending
// saved, wakes per day and wake latency (p50, p90; warm and cold) over the last UTC days
export const GET = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  const { days } = readQuery(req, ComputeUsageQuerySchema);
  return json({ summary: await computeUsageSummary({ organizationIds: caller.organizationIds, computeId: params.id, days }) });
});
