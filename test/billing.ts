import { expect } from "vitest";
import { call, type Tenant } from "./api";
import { db } from "../server/db";

// Helpers of the billing tests: spend CU-hours, change the plan or the spend cap through the API.

export interface ErrorReply {
  error: { code: string; message: string; details: Record<string, unknown>[] };
}

/**
 * Spend `cuHours` of this month for the organization: a closed interval of a compute deleted long ago, in
 * the still-open hour (closed hours are read from their rollups, which never see intervals written late).
 * Returns the interval's id.
 */
export async function spend(organizationId: string, cuHours: number): Promise<string> {
  let now = new Date();
  if (now.getTime() % 3_600_000 < 1000) await new Promise((r) => setTimeout(r, 1000));
  now = new Date();
  const startedAt = new Date(now.getTime() - (now.getTime() % 3_600_000));
  const hours = (now.getTime() - startedAt.getTime()) / 3_600_000;
  const row = await db.usageEvent.create({ data: { organizationId, state: "running", size: cuHours / hours, startedAt, endedAt: now } });
  return row.id;
}

export async function upgrade(tenant: Tenant, plan: string) {
  const res = await call<{ billing: { plan: string } }>("PATCH", "/api/v1/billing", { key: tenant.key, body: { plan } });
  expect(res.status).toBe(200);
  expect(res.body.billing.plan).toBe(plan);
}
