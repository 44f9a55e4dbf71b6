"use client";

import { useQuery } from "@tanstack/react-query";
import { api } from "@/lib/api-client";
import type { ComputeUsageSummary, UsageByProjectReply, UsageReply } from "@/lib/usage-types";
import { inOrg } from "./organizations";

// Usage for the console's charts through the REST API. Usage moves slowly (hours, samples once an hour),
// so these poll far less often than a compute's state.

const DAY_MS = 86_400_000;
const ORG_REFRESH_MS = 60_000;
const COMPUTE_REFRESH_MS = 15_000;

/** The first instant of the UTC day `days - 1` days before today: `days` whole UTC days up to now. */
export function utcDaysAgo(days: number, now = Date.now()): string {
  return new Date(Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS).toISOString();
}

function utcMonthStart(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
}

/** The organization's usage per project per UTC day over the last `days` days. */
export function useUsageByProject(organizationId: string, days: number) {
  return useQuery({
    queryKey: ["organizations", organizationId, "usage-by-project", days],
    queryFn: () =>
      api<UsageByProjectReply>("GET", inOrg(`/api/v1/usage/projects?granularity=day&from=${encodeURIComponent(utcDaysAgo(days))}`, organizationId)),
    refetchInterval: ORG_REFRESH_MS,
  });
}

/** The organization's usage per UTC day of the current month. */
export function useUsageThisMonth(organizationId: string) {
  return useQuery({
    queryKey: ["organizations", organizationId, "usage-month"],
    queryFn: () => api<UsageReply>("GET", inOrg(`/api/v1/usage?granularity=day&from=${encodeURIComponent(utcMonthStart())}`, organizationId)),
    refetchInterval: ORG_REFRESH_MS,
  });
}

/** One compute's last `days` UTC days: time by state, savings, wakes and wake latency. */
export function useComputeUsage(computeId: string, days: number) {
  return useQuery({
    queryKey: ["compute-usage", computeId, days],
    queryFn: async () => (await api<{ summary: ComputeUsageSummary }>("GET", `/api/v1/compute/${computeId}/usage-summary?days=${days}`)).summary,
    refetchInterval: COMPUTE_REFRESH_MS,
  });
}
