"use client";

import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { cuHoursText, cumulativeMonth } from "@/lib/usage-charts";
import type { BillingSpend, UsageReply } from "@/lib/usage-types";
import { ChartFigure } from "../charts/chart-figure";
import { LEGEND_PROPS } from "../charts/legend";
import { AXIS, SERIES_COLORS } from "../charts/palette";

const usd = (n: number) => n.toLocaleString("en-US", { style: "currency", currency: "USD" });
const num = (n: number, digits = 2) => n.toLocaleString("en-US", { maximumFractionDigits: digits });

/**
 * This month's spend against the plan's allowance: CU-hours used day by day (cumulative) and the month's
 * estimate, against the included CU-hours and the monthly limit; then each metered quantity against what
 * the plan includes, and the charges so far and estimated.
 */
export function SpendChart({ billing, month, now }: { billing: BillingSpend; month: UsageReply; now: Date }) {
  const plan = billing.plans.find((p) => p.name === billing.plan);
  const included = plan?.included ?? { cuHours: 0, storageGbMonths: 0, transferGb: 0 };
  const limit = billing.limits.cuHoursPerMonth;
  const { monthToDate, estimate } = billing.spend;
  const rows = cumulativeMonth(month, estimate.usage.cuHours, now);
  const monthName = now.toLocaleDateString("en-US", { month: "long", timeZone: "UTC" });
  const summary =
    `${cuHoursText(monthToDate.usage.cuHours)} of ${num(included.cuHours, 0)} included CU-hours used in ${monthName}` +
    (limit !== null ? ` (limit ${num(limit, 0)})` : "") +
    `; at this rate ${cuHoursText(estimate.usage.cuHours)} by the month's end. Spend so far ${usd(monthToDate.charges.totalUsd)}, estimated ${usd(estimate.charges.totalUsd)} for the month on the ${billing.plan} plan.`;
  const allowance = [
    { what: "Compute", unit: "CU-hours", used: monthToDate.usage.cuHours, projected: estimate.usage.cuHours, included: included.cuHours, usd: estimate.charges.computeUsd },
    { what: "Storage", unit: "GB-months", used: monthToDate.usage.storageGbMonths, projected: estimate.usage.storageGbMonths, included: included.storageGbMonths, usd: estimate.charges.storageUsd },
    { what: "Transfer", unit: "GB", used: monthToDate.usage.transferGb, projected: estimate.usage.transferGb, included: included.transferGb, usd: estimate.charges.transferUsd },
  ];
  return (
    <div className="space-y-4">
      <ChartFigure
        title="Spend against the plan's allowance"
        summary={summary}
        testId="chart-spend"
        table={{
          columns: ["Day (UTC)", "CU-hours used (cumulative)", "Estimate"],
          rows: rows.map((r) => ({ key: r.start, cells: [r.label, r.used === null ? "-" : num(r.used, 3), r.projected === null ? "-" : num(r.projected, 3)] })),
        }}
      >
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={rows} accessibilityLayer={false} margin={{ top: 16, right: 8, bottom: 0, left: -12 }}>
            <CartesianGrid stroke={AXIS.grid} vertical={false} />
            <XAxis dataKey="label" tick={AXIS.tick} minTickGap={12} tickLine={false} />
            <YAxis tick={AXIS.tick} tickLine={false} axisLine={false} width={48} />
            <Tooltip formatter={(v) => `${num(Number(v), 3)} CU-hours`} />
            <Legend {...LEGEND_PROPS} />
            <ReferenceLine
              y={included.cuHours}
              stroke="#15803d"
              strokeDasharray="4 2"
              ifOverflow="extendDomain"
              label={{ value: `included ${num(included.cuHours, 0)}`, position: "insideTopLeft", fontSize: 11, fill: "#166534" }}
            />
            {limit !== null && limit !== included.cuHours ? (
              <ReferenceLine
                y={limit}
                stroke="#b91c1c"
                strokeDasharray="4 2"
                ifOverflow="extendDomain"
                label={{ value: `limit ${num(limit, 0)}`, position: "insideTopLeft", fontSize: 11, fill: "#991b1b" }}
              />
            ) : null}
            <Line dataKey="used" name="CU-hours used" stroke={SERIES_COLORS[0]} strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
            <Line dataKey="projected" name="Estimate" stroke={SERIES_COLORS[0]} strokeDasharray="5 4" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </ChartFigure>
      {/* Scrolls inside its box on a narrow screen; focusable so a keyboard can scroll it. */}
      <div className="overflow-x-auto" tabIndex={0} role="region" aria-label="This month against what the plan includes">
        <table className="w-full text-left text-sm" data-testid="allowance-table">
          <caption className="mb-1 text-left text-sm font-semibold text-slate-900">This month against what the plan includes</caption>
          <thead className="text-xs text-slate-600 uppercase">
            <tr>
              <th scope="col" className="py-1 pr-3 font-medium">Metered</th>
              <th scope="col" className="py-1 pr-3 font-medium">Used so far</th>
              <th scope="col" className="py-1 pr-3 font-medium">Estimate</th>
              <th scope="col" className="py-1 pr-3 font-medium">Included</th>
              <th scope="col" className="py-1 font-medium">Charge (est.)</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 text-slate-800 tabular-nums">
            {allowance.map((a) => (
              <tr key={a.what}>
                <th scope="row" className="py-1 pr-3 font-normal">
                  {a.what} <span className="text-slate-600">({a.unit})</span>
                </th>
                <td className="py-1 pr-3">
                  {num(a.used, 3)}
                  {a.included > 0 ? <span className="text-slate-600"> ({num((a.used / a.included) * 100, 1)} %)</span> : null}
                </td>
                <td className="py-1 pr-3">{num(a.projected, 3)}</td>
                <td className="py-1 pr-3">{num(a.included, 0)}</td>
                <td className="py-1">{usd(a.usd)}</td>
              </tr>
            ))}
            <tr>
              <th scope="row" className="py-1 pr-3 font-normal">
                Plan base price
              </th>
              <td className="py-1 pr-3" colSpan={3} />
              <td className="py-1">{usd(estimate.charges.baseUsd)}</td>
            </tr>
          </tbody>
        </table>
      </div>
    </div>
  );
}
