"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { dayLabel } from "@/lib/usage-charts";
import type { ComputeUsageSummary } from "@/lib/usage-types";
import { ChartFigure } from "../charts/chart-figure";
import { AXIS, STATE_COLORS } from "../charts/palette";

const h = (seconds: number) => Math.round((seconds / 3600) * 100) / 100;
const fmt = (hours: number) => `${hours.toLocaleString("en-US", { maximumFractionDigits: 2 })} h`;

/** Hours per UTC day running (billed), paused (warm) and suspended (cold), stacked to the day. */
export function StateTimeChart({ summary }: { summary: ComputeUsageSummary }) {
  const rows = summary.days.map((d) => ({
    date: d.date,
    label: dayLabel(d.date),
    running: h(d.seconds.running),
    paused: h(d.seconds.paused),
    suspended: h(d.seconds.suspended),
  }));
  const total = summary.seconds.running + summary.seconds.paused + summary.seconds.suspended;
  const share = (s: number) => (total > 0 ? Math.round((s / total) * 100) : 0);
  return (
    <ChartFigure
      title="Time per day by state"
      summary={`Over ${rows.length} days: running ${fmt(h(summary.seconds.running))} (${share(summary.seconds.running)} %), paused ${fmt(h(summary.seconds.paused))} (${share(summary.seconds.paused)} %), suspended ${fmt(h(summary.seconds.suspended))} (${share(summary.seconds.suspended)} %).`}
      testId="chart-compute-states"
      table={{
        columns: ["Day (UTC)", "Running", "Paused", "Suspended"],
        rows: rows.map((r) => ({ key: r.date, cells: [r.label, fmt(r.running), fmt(r.paused), fmt(r.suspended)] })),
      }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={rows} accessibilityLayer={false} margin={{ top: 4, right: 4, bottom: 0, left: -16 }}>
          <CartesianGrid stroke={AXIS.grid} vertical={false} />
          <XAxis dataKey="label" tick={AXIS.tick} minTickGap={12} tickLine={false} />
          <YAxis tick={AXIS.tick} tickLine={false} axisLine={false} width={40} domain={[0, 24]} ticks={[0, 6, 12, 18, 24]} />
          <Tooltip formatter={(v) => fmt(Number(v))} cursor={{ fill: "#f1f5f9" }} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="running" name="Running" stackId="t" fill={STATE_COLORS.running} isAnimationActive={false} />
          <Bar dataKey="paused" name="Paused" stackId="t" fill={STATE_COLORS.paused} isAnimationActive={false} />
          <Bar dataKey="suspended" name="Suspended" stackId="t" fill={STATE_COLORS.suspended} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
