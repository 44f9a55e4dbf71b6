"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { computeHoursByProject } from "@/lib/usage-charts";
import type { UsageByProjectReply } from "@/lib/usage-types";
import { ChartFigure } from "../charts/chart-figure";
import { AXIS, SERIES_COLORS } from "../charts/palette";

const fmt = (h: number) => `${h.toLocaleString("en-US", { maximumFractionDigits: 3 })} h`;

/** Compute hours per UTC day over the range, stacked by project. */
export function ComputeHoursChart({ reply }: { reply: UsageByProjectReply }) {
  const { series, rows } = computeHoursByProject(reply);
  const total = rows.reduce((sum, r) => sum + series.reduce((s, p) => s + (r[p.key] as number), 0), 0);
  const busiest = [...reply.projects].sort((a, b) => b.totals.computeSeconds - a.totals.computeSeconds)[0];
  const summary =
    series.length === 0
      ? `No compute ran in the last ${rows.length} days.`
      : `${fmt(total)} of compute in the last ${rows.length} days across ${series.length} project${series.length === 1 ? "" : "s"}` +
        (busiest ? `; the most in ${busiest.name} (${fmt(busiest.totals.computeSeconds / 3600)}).` : ".");
  return (
    <ChartFigure
      title="Compute hours per day, by project"
      summary={summary}
      testId="chart-compute-hours"
      table={{
        columns: ["Day (UTC)", ...series.map((s) => s.name)],
        rows: rows.map((r) => ({ key: r.start, cells: [r.label, ...series.map((s) => fmt(r[s.key] as number))] })),
      }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={rows} accessibilityLayer={false} margin={{ top: 4, right: 4, bottom: 0, left: -12 }}>
          <CartesianGrid stroke={AXIS.grid} vertical={false} />
          <XAxis dataKey="label" tick={AXIS.tick} minTickGap={12} tickLine={false} />
          <YAxis tick={AXIS.tick} tickLine={false} axisLine={false} width={48} allowDecimals />
          <Tooltip formatter={(v) => fmt(Number(v))} cursor={{ fill: "#f1f5f9" }} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {series.map((s, i) => (
            <Bar key={s.key} dataKey={s.key} name={s.name} stackId="hours" fill={SERIES_COLORS[i % SERIES_COLORS.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
