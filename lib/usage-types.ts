// Reply shapes of the usage endpoints the console's charts read (see README, Usage and billing).

export interface UsageBucket {
  start: string;
  computeSeconds: number;
  cuSeconds: number;
  storageBytes: number | null;
  bytesIn: number;
  bytesOut: number;
}

/** GET /api/v1/usage */
export interface UsageReply {
  usage: UsageBucket[];
  totals: { computeSeconds: number; cuSeconds: number; bytesIn: number; bytesOut: number };
  from: string;
  to: string;
  granularity: "hour" | "day";
}

/** GET /api/v1/usage/projects */
export interface UsageByProjectReply {
  projects: { projectId: string | null; name: string; slug: string | null; usage: UsageBucket[]; totals: UsageReply["totals"] }[];
  from: string;
  to: string;
  granularity: "hour" | "day";
}

export type StateSeconds = { running: number; paused: number; suspended: number; other: number };
export type WakeCounts = { warm: number; cold: number; joined: number };
export interface Latency {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
}

/** GET /api/v1/compute/{id}/usage-summary */
export interface ComputeUsageSummary {
  computeId: string;
  size: number;
  plan: string;
  planPricePerCuHour: number;
  from: string;
  to: string;
  seconds: StateSeconds;
  cuHours: number;
  alwaysOnCuHours: number;
  savings: { cuHours: number; usd: number; pricePerCuHour: number; pricePlan: string };
  days: { date: string; seconds: StateSeconds; wakes: WakeCounts }[];
  wakeLatency: { warm: Latency; cold: Latency; joined: Latency };
}

/** What the spend chart reads from GET /api/v1/billing (fields the API has; the console's Billing type names fewer). */
export interface BillingSpend {
  plan: string;
  limits: { cuHoursPerMonth: number | null };
  plans: { name: string; baseMonthly: number; included: { cuHours: number; storageGbMonths: number; transferGb: number } }[];
  spend: {
    monthToDate: { usage: MonthUsage; charges: Charges };
    estimate: { usage: MonthUsage; charges: Charges };
  };
}
export interface MonthUsage {
  cuHours: number;
  /** Storage averaged over the month: GB (10^9 bytes) x the fraction of the month it was held. */
  storageGbMonths: number;
  /** Bytes through the proxy both ways, in GB (10^9 bytes). */
  transferGb: number;
}
export interface Charges {
  baseUsd: number;
  computeUsd: number;
  storageUsd: number;
  transferUsd: number;
  totalUsd: number;
}
