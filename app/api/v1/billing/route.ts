import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { BillingChangeSchema } from "@/lib/schemas";
import { changeBilling, getBilling } from "@/server/billing/billing";

// GET /api/v1/billing - the plan, its limits and this month's use, spend and estimate (owners and admins)
export const GET = withCaller(async ({ caller }) => {
  return json({ billing: await getBilling({ caller }) });
});

// PATCH /api/v1/billing - change the plan and/or the monthly spend cap (owners only)
export const PATCH = withCaller(async ({ req, caller }) => {
  const { plan, spendCapUsd } = await readBody(req, BillingChangeSchema);
  return json({ billing: await changeBilling({ caller, plan, spendCapUsd }) });
});
