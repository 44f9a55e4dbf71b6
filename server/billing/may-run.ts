import { assertComputeQuota } from "../quotas/quotas";
import { assertSpendCap } from "./spend-cap";

/**
 * Starting or waking a compute costs compute time: refused (402, and 1226 through the proxy) once the
 * month's CU-hours are used or the organization's spend has reached its cap.
 */
export async function assertMayRun(organizationId: string): Promise<void> {
  await assertComputeQuota(organizationId);
  await assertSpendCap(organizationId);
}
