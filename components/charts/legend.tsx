import type { ReactNode } from "react";

/**
 * How every chart's legend looks: series in the order they are drawn, names in body text colour (the
 * swatch carries the series colour; light series colours would be hard to read as text).
 */
export const LEGEND_PROPS = {
  wrapperStyle: { fontSize: 12 },
  itemSorter: null,
  formatter: (value: unknown): ReactNode => <span style={{ color: "#334155" }}>{String(value)}</span>,
};
