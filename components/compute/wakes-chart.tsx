"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { dayLabel } from "@/lib/usage-charts";
import type { ComputeUsageSummary } from "@/lib/usage-types";
import { ChartFigure } from "../charts/chart-figure";
import { LEGEND_PROPS } from "../charts/legend";
import { AXIS, WAKE_COLORS } from "../charts/palette";

/** Wakes per UTC day: warm (from paused), cold (from suspended), and clients that joined a wake under way. */
export function WakesChart({ summary }: { summary: ComputeUsageSummary }) {
  const rows = summary.days.map((d) => ({ date: d.date, label: dayLabel(d.date), ...d.wakes }));
  const sum = (k: "warm" | "cold" | "joined") => rows.reduce((s, r) => s + r[k], 0);
  const [warm, cold, joined] = [sum("warm"), sum("cold"), sum("joined")];
  const total = warm + cold + joined;
  return (
    <ChartFigure
      title="Wakes per day"
      summary={
        total === 0
          ? `No client woke this compute in the last ${rows.length} days.`
          : `${total} wake${total === 1 ? "" : "s"} in ${rows.length} days: ${warm} warm, ${cold} cold${joined ? `, ${joined} joined a wake under way` : ""}; at most ${Math.max(...rows.map((r) => r.warm + r.cold + r.joined))} in a day.`
      }
      testId="chart-compute-wakes"
      table={{
        columns: ["Day (UTC)", "Warm", "Cold", "Joined"],
        rows: rows.map((r) => ({ key: r.date, cells: [r.label, r.warm, r.cold, r.joined] })),
      }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={rows} accessibilityLayer={false} margin={{ top: 4, right: 4, bottom: 0, left: -16 }}>
          <CartesianGrid stroke={AXIS.grid} vertical={false} />
          <XAxis dataKey="label" tick={AXIS.tick} minTickGap={12} tickLine={false} />
          <YAxis tick={AXIS.tick} tickLine={false} axisLine={false} width={40} allowDecimals={false} />
          <Tooltip cursor={{ fill: "#f1f5f9" }} />
          <Legend {...LEGEND_PROPS} />
          <Bar dataKey="warm" name="Warm" stackId="w" fill={WAKE_COLORS.warm} isAnimationActive={false} />
          <Bar dataKey="cold" name="Cold" stackId="w" fill={WAKE_COLORS.cold} isAnimationActive={false} />
          <Bar dataKey="joined" name="Joined" stackId="w" fill={WAKE_COLORS.joined} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
