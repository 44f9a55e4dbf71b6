"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { seconds } from "@/lib/format";
import { computeHoursByProject, timeScale } from "@/lib/usage-charts";
import type { UsageByProjectReply } from "@/lib/usage-types";
import { ChartFigure } from "../charts/chart-figure";
import { LEGEND_PROPS } from "../charts/legend";
import { AXIS, SERIES_COLORS } from "../charts/palette";

/** Compute time as people say it: "45 s", "3 min 5 s", "2 h 10 min". */
const spoken = (s: number) => (s === 0 ? "0" : seconds(Math.round(s)));

/** Compute time per UTC day over the range, stacked by project (in hours, or minutes while days are short). */
export function ComputeHoursChart({ reply }: { reply: UsageByProjectReply }) {
  const { series, rows } = computeHoursByProject(reply);
  const dayTotal = (r: (typeof rows)[number]) => series.reduce((s, p) => s + (r[p.key] as number), 0);
  const total = rows.reduce((sum, r) => sum + dayTotal(r), 0);
  const scale = timeScale(Math.max(0, ...rows.map(dayTotal)));
  const chartRows = rows.map((r) => ({ ...r, ...Object.fromEntries(series.map((s) => [s.key, (r[s.key] as number) / scale.per])) }));
  const busiest = [...reply.projects].sort((a, b) => b.totals.computeSeconds - a.totals.computeSeconds)[0];
  const summary =
    series.length === 0
      ? `No compute ran in the last ${rows.length} days.`
      : `${spoken(total)} of compute in the last ${rows.length} days across ${series.length} project${series.length === 1 ? "" : "s"}` +
        (busiest ? `; the most in ${busiest.name} (${spoken(busiest.totals.computeSeconds)}).` : ".");
  return (
    <ChartFigure
      title="Compute hours per day, by project"
      summary={summary}
      testId="chart-compute-hours"
      table={{
        columns: ["Day (UTC)", ...series.map((s) => s.name)],
        rows: rows.map((r) => ({ key: r.start, cells: [r.label, ...series.map((s) => spoken(r[s.key] as number))] })),
      }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={chartRows} accessibilityLayer={false} margin={{ top: 4, right: 4, bottom: 0, left: 0 }}>
          <CartesianGrid stroke={AXIS.grid} vertical={false} />
          <XAxis dataKey="label" tick={AXIS.tick} minTickGap={12} tickLine={false} />
          <YAxis tick={AXIS.tick} tickLine={false} axisLine={false} width={52} tickFormatter={(v: number) => `${+v.toFixed(2)} ${scale.unit}`} />
          <Tooltip formatter={(v) => spoken(Number(v) * scale.per)} cursor={{ fill: "#f1f5f9" }} />
          <Legend {...LEGEND_PROPS} />
          {series.map((s, i) => (
            <Bar key={s.key} dataKey={s.key} name={s.name} stackId="hours" fill={SERIES_COLORS[i % SERIES_COLORS.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
