"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { seconds } from "@/lib/format";
import { dayLabel, timeScale } from "@/lib/usage-charts";
import type { ComputeUsageSummary } from "@/lib/usage-types";
import { ChartFigure } from "../charts/chart-figure";
import { LEGEND_PROPS } from "../charts/legend";
import { AXIS, STATE_COLORS } from "../charts/palette";

/** A day's time as people say it: "3 min 5 s", "2 h 10 min". */
const spoken = (s: number) => (s === 0 ? "0" : seconds(Math.round(s)));
const STATES = [
  { key: "running", name: "Running" },
  { key: "paused", name: "Paused" },
  { key: "suspended", name: "Suspended" },
] as const;

/** Time per UTC day running (billed), paused (warm) and suspended (cold), stacked to the day. */
export function StateTimeChart({ summary }: { summary: ComputeUsageSummary }) {
  const dayTotal = (d: ComputeUsageSummary["days"][number]) => d.seconds.running + d.seconds.paused + d.seconds.suspended;
  // Hours, or minutes or seconds while no day is longer (a new compute's first minutes still show as bars).
  const scale = timeScale(Math.max(0, ...summary.days.map(dayTotal)));
  const rows = summary.days.map((d) => ({
    date: d.date,
    label: dayLabel(d.date),
    ...Object.fromEntries(STATES.map((s) => [s.key, d.seconds[s.key] / scale.per])),
  }));
  const total = summary.seconds.running + summary.seconds.paused + summary.seconds.suspended;
  const part = (key: (typeof STATES)[number]["key"]) =>
    `${key} ${spoken(summary.seconds[key])} (${total > 0 ? Math.round((summary.seconds[key] / total) * 100) : 0} %)`;
  return (
    <ChartFigure
      title="Time per day by state"
      summary={`Over ${rows.length} days: ${STATES.map((s) => part(s.key)).join(", ")}.`}
      testId="chart-compute-states"
      table={{
        columns: ["Day (UTC)", ...STATES.map((s) => s.name)],
        rows: summary.days.map((d) => ({ key: d.date, cells: [dayLabel(d.date), ...STATES.map((s) => spoken(d.seconds[s.key]))] })),
      }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={rows} accessibilityLayer={false} margin={{ top: 4, right: 4, bottom: 0, left: 0 }}>
          <CartesianGrid stroke={AXIS.grid} vertical={false} />
          <XAxis dataKey="label" tick={AXIS.tick} minTickGap={12} tickLine={false} />
          <YAxis tick={AXIS.tick} tickLine={false} axisLine={false} width={52} tickFormatter={(v: number) => `${+v.toFixed(2)} ${scale.unit}`} />
          <Tooltip formatter={(v) => spoken(Number(v) * scale.per)} cursor={{ fill: "#f1f5f9" }} />
          <Legend {...LEGEND_PROPS} />
          {STATES.map((s) => (
            <Bar key={s.key} dataKey={s.key} name={s.name} stackId="t" fill={STATE_COLORS[s.key]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
