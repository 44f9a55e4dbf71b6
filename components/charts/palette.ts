// Chart colours: distinct hues that keep their order for people who see fewer colours (dark to light),
// each series also named in the legend and the data table.
export const SERIES_COLORS = ["#4f46e5", "#0891b2", "#d97706", "#be185d", "#15803d", "#7c3aed", "#64748b", "#b91c1c"];

export const STATE_COLORS = { running: "#4f46e5", paused: "#d97706", suspended: "#94a3b8", other: "#be185d" } as const;
export const WAKE_COLORS = { warm: "#d97706", cold: "#0891b2", joined: "#94a3b8" } as const;

/** Axis text and grid lines. */
export const AXIS = { tick: { fontSize: 11, fill: "#475569" }, grid: "#e2e8f0" } as const;
