"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { bytes } from "@/lib/format";
import { byteScale, storageByDay } from "@/lib/usage-charts";
import type { UsageByProjectReply } from "@/lib/usage-types";
import { ChartFigure } from "../charts/chart-figure";
import { AXIS, SERIES_COLORS } from "../charts/palette";

/** Storage of all computes per UTC day (each compute's last hourly sample of the day, summed). */
export function StorageChart({ reply }: { reply: UsageByProjectReply }) {
  const rows = storageByDay(reply);
  const sampled = rows.filter((r) => r.bytes !== null);
  const latest = sampled.at(-1);
  const peak = sampled.reduce<number | null>((max, r) => (max === null || r.bytes! > max ? r.bytes : max), null);
  // Plotted in one binary unit (MiB, GiB, ...) so the axis has round ticks.
  const scale = byteScale(peak ?? 0);
  const chartRows = rows.map((r) => ({ ...r, scaled: r.bytes === null ? null : r.bytes / scale.per }));
  const summary = latest
    ? `${bytes(latest.bytes!)} stored on ${latest.label}; at most ${bytes(peak!)} in the last ${rows.length} days. Storage is sampled once an hour.`
    : `No storage sampled in the last ${rows.length} days yet (it is sampled once an hour).`;
  return (
    <ChartFigure
      title="Storage over time"
      summary={summary}
      testId="chart-storage"
      table={{
        columns: ["Day (UTC)", "Storage"],
        rows: rows.map((r) => ({ key: r.start, cells: [r.label, r.bytes === null ? "not sampled" : bytes(r.bytes)] })),
      }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={chartRows} accessibilityLayer={false} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke={AXIS.grid} vertical={false} />
          <XAxis dataKey="label" tick={AXIS.tick} minTickGap={12} tickLine={false} />
          <YAxis tick={AXIS.tick} tickLine={false} axisLine={false} width={60} tickFormatter={(v: number) => `${+v.toFixed(1)} ${scale.unit}`} />
          <Tooltip formatter={(v) => bytes(Number(v) * scale.per)} />
          <Line
            dataKey="scaled"
            name="Storage"
            stroke={SERIES_COLORS[1]}
            strokeWidth={2}
            dot={{ r: 3 }}
            connectNulls
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
