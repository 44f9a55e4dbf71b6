import type { ComputeSessions } from "./api-types";
import { seconds } from "./format";

// The compute's client sessions in words, as the console's compute panel says them (issue 14):
// "3 sessions parked, 1 pinned: open transaction, idle 2 h".

/** Null when no proxy holds a session of the compute. */
export function sessionsSummary(sessions: ComputeSessions): string | null {
  const counts = (
    [
      [sessions.active, "active"],
      [sessions.parked, "parked"],
      [sessions.pinned, "pinned"],
    ] as const
  ).filter(([n]) => n > 0);
  if (counts.length === 0) return null;
  const parts = counts.map(([n, what], i) => (i === 0 ? `${n} ${n === 1 ? "session" : "sessions"} ${what}` : `${n} ${what}`));
  if (sessions.pinned > 0 && sessions.pins.length > 0) {
    // One reason: just its name; several: each with its count. The idle time is the longest-idle session's.
    const reasons =
      sessions.pins.length === 1 ? sessions.pins[0]!.reason : sessions.pins.map((pin) => `${pin.reason} (${pin.sessions})`).join(", ");
    const idle = Math.max(...sessions.pins.map((pin) => pin.idleSeconds));
    parts[parts.length - 1] += `: ${reasons}, idle ${seconds(idle)}`;
  }
  return parts.join(", ");
}
