"use client";

import { errorMessage } from "@/lib/api-client";
import { duration, seconds as spokenSeconds } from "@/lib/format";
import { cuHoursText } from "@/lib/usage-charts";
import type { ComputeUsageSummary, Latency } from "@/lib/usage-types";
import { useComputeUsage } from "../data/usage";
import { Card } from "../ui/card";
import { ErrorState, SkeletonRows } from "../ui/states";
import { StateTimeChart } from "./state-time-chart";
import { WakesChart } from "./wakes-chart";

const DAYS = 30;
const usd = (n: number) => n.toLocaleString("en-US", { style: "currency", currency: "USD" });
/** Time as people say it: "0", "45 s", "3 min 5 s", "2 d 4 h". */
const spoken = (s: number) => (s === 0 ? "0" : spokenSeconds(Math.round(s)));

/**
 * What this compute did in the last 30 days: time running, paused and suspended, what suspending saved
 * against running all the time, wakes per day, and how long clients waited for a wake (p50, p90).
 */
export function ComputeUsagePanel({ computeId }: { computeId: string }) {
  const { data, error, refetch } = useComputeUsage(computeId, DAYS);
  return (
    <Card id="usage" title={`Usage, last ${DAYS} days`} description="Time by state, what suspending saved, and wakes as clients saw them (UTC days).">
      {!data ? (
        error ? (
          <ErrorState message={`Could not load usage: ${errorMessage(error)}`} onRetry={() => void refetch()} />
        ) : (
          <SkeletonRows rows={3} label="Loading usage" />
        )
      ) : (
        <div className="space-y-8">
          <Figures summary={data} />
          <div className="grid gap-8 lg:grid-cols-2">
            <StateTimeChart summary={data} />
            <WakesChart summary={data} />
          </div>
          <LatencyTable latency={data.wakeLatency} />
        </div>
      )}
    </Card>
  );
}

function Figures({ summary }: { summary: ComputeUsageSummary }) {
  const { seconds, savings } = summary;
  const priceNote =
    savings.pricePlan === summary.plan
      ? `at the ${summary.plan} plan's ${usd(savings.pricePerCuHour)} per CU-hour`
      : `at the ${savings.pricePlan} plan's ${usd(savings.pricePerCuHour)} per CU-hour (the ${summary.plan} plan has no per-hour price; it stops at its monthly CU-hours)`;
  const items = [
    { term: "Running", value: spoken(seconds.running), note: "billed" },
    { term: "Paused (warm)", value: spoken(seconds.paused), note: "not billed" },
    { term: "Suspended (cold)", value: spoken(seconds.suspended), note: "not billed" },
    { term: "Suspending saved", value: savings.usd === 0 && savings.cuHours > 0 ? `< ${usd(0.01)}` : usd(savings.usd), note: `${cuHoursText(savings.cuHours)} CU-hours ${priceNote}` },
  ];
  return (
    <div>
      <dl className="grid grid-cols-2 gap-4 lg:grid-cols-4" data-testid="compute-usage-figures">
        {items.map((i) => (
          <div key={i.term} className="min-w-0">
            <dt className="text-xs font-medium text-slate-600 uppercase">{i.term}</dt>
            <dd className="mt-1 text-lg font-semibold text-slate-900 tabular-nums" data-testid={`usage-${i.term.split(" ")[0]!.toLowerCase()}`}>
              {i.value}
            </dd>
            <dd className="text-xs text-slate-600">{i.note}</dd>
          </div>
        ))}
      </dl>
      <p className="mt-3 text-sm text-slate-700">
        Running all the time would have billed {cuHoursText(summary.alwaysOnCuHours)} CU-hours; it billed {cuHoursText(summary.cuHours)}.
      </p>
    </div>
  );
}

const KINDS: { key: keyof ComputeUsageSummary["wakeLatency"]; name: string; what: string }[] = [
  { key: "warm", name: "Warm", what: "from paused" },
  { key: "cold", name: "Cold", what: "from suspended" },
  { key: "joined", name: "Joined", what: "arrived while a wake was under way" },
];

function LatencyTable({ latency }: { latency: ComputeUsageSummary["wakeLatency"] }) {
  const ms = (l: Latency, v: number | null) => (l.count === 0 || v === null ? "-" : duration(v));
  return (
    <div>
      <h3 className="text-sm font-semibold text-slate-900">Wake latency as clients saw it</h3>
      <p className="mt-0.5 text-sm text-slate-700">From the client&apos;s connect to the compute answering its login, through the proxy; p50 is the median, p90 what 9 in 10 wakes stayed within.</p>
      <table className="mt-2 w-full text-left text-sm" data-testid="wake-latency">
        <thead className="text-xs text-slate-600 uppercase">
          <tr>
            <th scope="col" className="py-1 pr-2 font-medium">Wake</th>
            <th scope="col" className="py-1 pr-2 font-medium">Count</th>
            <th scope="col" className="py-1 pr-2 font-medium">p50</th>
            <th scope="col" className="py-1 font-medium">p90</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 text-slate-800 tabular-nums">
          {KINDS.map((k) => (
            <tr key={k.key} data-testid={`latency-${k.key}`}>
              <th scope="row" className="py-1 pr-2 font-normal">
                {k.name} <span className="hidden text-slate-600 sm:inline">({k.what})</span>
              </th>
              <td className="py-1 pr-2">{latency[k.key].count}</td>
              <td className="py-1 pr-2">{ms(latency[k.key], latency[k.key].p50Ms)}</td>
              <td className="py-1">{ms(latency[k.key], latency[k.key].p90Ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
