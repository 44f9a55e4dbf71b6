"use client";

import { errorMessage } from "@/lib/api-client";
import type { BillingSpend } from "@/lib/usage-types";
import { inOrg, useBilling } from "../data/organizations";
import { useUsageByProject, useUsageThisMonth, utcDaysAgo } from "../data/usage";
import { Card } from "../ui/card";
import { ErrorState, SkeletonRows } from "../ui/states";
import { ComputeHoursChart } from "./compute-hours-chart";
import { SpendChart } from "./spend-chart";
import { StorageChart } from "./storage-chart";

const DAYS = 30;

/**
 * The billing page's charts: compute hours per day stacked by project and storage over the last 30 days,
 * and this month's spend against the plan's allowance; with the usage as a CSV download.
 */
export function BillingCharts({ organizationId }: { organizationId: string }) {
  const byProject = useUsageByProject(organizationId, DAYS);
  const month = useUsageThisMonth(organizationId);
  const billing = useBilling(organizationId);
  const csv = inOrg(`/api/v1/usage?granularity=day&format=csv&from=${encodeURIComponent(utcDaysAgo(DAYS))}`, organizationId);
  const failed = byProject.error ?? month.error;
  return (
    <Card
      id="usage-charts"
      title="Usage"
      description={`The last ${DAYS} days, by UTC day.`}
      actions={
        <a href={csv} download className="inline-flex items-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-50">
          Download CSV
        </a>
      }
    >
      {failed ? (
        <ErrorState message={`Could not load usage: ${errorMessage(failed)}`} onRetry={() => void Promise.all([byProject.refetch(), month.refetch()])} />
      ) : !byProject.data || !month.data || !billing.data ? (
        <SkeletonRows rows={4} label="Loading usage" />
      ) : (
        <div className="space-y-8">
          <div className="grid gap-8 lg:grid-cols-2">
            <ComputeHoursChart reply={byProject.data} />
            <StorageChart reply={byProject.data} />
          </div>
          <SpendChart billing={billing.data as unknown as BillingSpend} month={month.data} now={new Date(month.data.to)} />
        </div>
      )}
    </Card>
  );
}
