"use client";

import { useQuery } from "@tanstack/react-query";
import { api, errorMessage } from "@/lib/api-client";
import type { UsageByProjectReply, UsageReply, BillingSpend } from "@/lib/usage-types";
import { inOrg, useBilling } from "../data/organizations";
import { Card } from "../ui/card";
import { ErrorState, SkeletonRows } from "../ui/states";
import { ComputeHoursChart } from "./compute-hours-chart";
import { SpendChart } from "./spend-chart";
import { StorageChart } from "./storage-chart";

const DAY_MS = 86_400_000;
const DAYS = 30;
const REFRESH_MS = 60_000;

/** The first instant of the UTC day `days - 1` days before today: `days` whole UTC days up to now. */
function daysAgo(days: number): string {
  return new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - (days - 1) * DAY_MS).toISOString();
}

function monthStart(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
}

/**
 * The billing page's charts: compute hours per day stacked by project and storage over the last 30 days,
 * and this month's spend against the plan's allowance; with the usage as a CSV download.
 */
export function BillingCharts({ organizationId }: { organizationId: string }) {
  const from = daysAgo(DAYS);
  const byProject = useQuery({
    queryKey: ["organizations", organizationId, "usage-by-project", DAYS],
    queryFn: () => api<UsageByProjectReply>("GET", inOrg(`/api/v1/usage/projects?granularity=day&from=${encodeURIComponent(from)}`, organizationId)),
    refetchInterval: REFRESH_MS,
  });
  const month = useQuery({
    queryKey: ["organizations", organizationId, "usage-month"],
    queryFn: () => api<UsageReply>("GET", inOrg(`/api/v1/usage?granularity=day&from=${encodeURIComponent(monthStart())}`, organizationId)),
    refetchInterval: REFRESH_MS,
  });
  const billing = useBilling(organizationId);
  const csv = inOrg(`/api/v1/usage?granularity=day&format=csv&from=${encodeURIComponent(from)}`, organizationId);
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
