import { assertComputeQuota, type QuotaTerms } from "../quotas/quotas";
import { assertSpendCap } from "./spend-cap";

/**
 * Starting a compute (cold to running; a thaw is not checked, see wake.ts) costs compute time: refused (402, and 1226 through the proxy) once the
 * month's CU-hours are used or the organization's spend has reached its cap.
 */
export async function assertMayRun(organizationId: string, terms?: QuotaTerms): Promise<void> {
  await assertComputeQuota(organizationId, terms);
  await assertSpendCap(organizationId);
}
