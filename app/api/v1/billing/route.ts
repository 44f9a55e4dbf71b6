import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { PlanChangeSchema } from "@/lib/schemas";
import { changePlan, getBilling } from "@/server/billing/billing";

// GET /api/v1/billing - the plan, its limits and this month's use (owners and admins)
export const GET = withCaller(async ({ caller }) => {
  return json({ billing: await getBilling({ caller }) });
});

// PATCH /api/v1/billing - change the plan (owners only)
export const PATCH = withCaller(async ({ req, caller }) => {
  const { plan } = await readBody(req, PlanChangeSchema);
  return json({ billing: await changePlan({ caller, plan }) });
});
