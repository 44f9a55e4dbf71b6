// The idle policy of DESIGN.md, as pure functions the scheduler applies.
//
// Warm tier: a running compute idle for suspendTimeoutSeconds is paused (frozen, wakes in milliseconds).
// Cold tier: a paused compute is suspended (stopped, costs nothing) after its cold-after time.
//
// Adaptive cold-after ("optimize based on usage patterns"): the number of times the compute was woken in
// the last 24 hours scales its configured coldAfterSeconds:
//   0 wakes        x 0.25  rarely used: go cold sooner
//   1-4 wakes      x 1     the configured value
//   5-19 wakes     x 2     used often: stay warm longer
//   20+ wakes      x 4     used all the time: stay warm much longer
// bounded to [max(MIN_SUSPEND_TIMEOUT_SECONDS, coldAfter / 4), min(7 days, coldAfter x 4)], so the setting
// stays the anchor. coldAfterSeconds 0 means never go cold and is never changed.

export const WAKE_WINDOW_SECONDS = 24 * 3600;
export const MAX_SECONDS = 7 * 24 * 3600;

export function adaptiveFactor(wakesInWindow: number): number {
  if (wakesInWindow <= 0) return 0.25;
  if (wakesInWindow < 5) return 1;
  if (wakesInWindow < 20) return 2;
  return 4;
}

export interface ColdAfter {
  seconds: number;
  factor: number;
  wakes: number;
  /** The plan's bound cut the time short (a free plan's paused compute goes cold within an hour). */
  planCap?: { plan: string; seconds: number };
}

/** The cold-after time in force for a compute woken `wakes` times in the last 24 h; null when never. */
export function effectiveColdAfter(coldAfterSeconds: number, wakes: number, minSeconds: number): ColdAfter | null {
  if (coldAfterSeconds <= 0) return null;
  const factor = adaptiveFactor(wakes);
  const low = Math.max(minSeconds, Math.floor(coldAfterSeconds / 4));
  const high = Math.min(MAX_SECONDS, coldAfterSeconds * 4);
  const seconds = Math.min(high, Math.max(low, Math.round(coldAfterSeconds * factor)));
  return { seconds, factor, wakes };
}

export function pauseReason(idleSeconds: number): string {
  return `idle for ${idleSeconds} s with no connections`;
}

/**
 * effectiveColdAfter within the plan's bound (`maxSeconds`, null for none). A plan with a bound also sends
 * a compute set to never go cold (0, allowed only on a paid plan: one moved to a lower plan) cold by then.
 */
export function plannedColdAfter(
  coldAfterSeconds: number,
  wakes: number,
  minSeconds: number,
  plan: { name: string; maxSeconds: number | null },
): ColdAfter | null {
  const cap = plan.maxSeconds;
  const cold = effectiveColdAfter(coldAfterSeconds > 0 || cap === null ? coldAfterSeconds : cap, wakes, minSeconds);
  if (!cold || cap === null || cold.seconds <= cap) return cold;
  return { ...cold, seconds: cap, planCap: { plan: plan.name, seconds: cap } };
}

export function coldReason(pausedSeconds: number, cold: ColdAfter, configured: number): string {
  const base = `paused for ${pausedSeconds} s, went cold`;
  if (cold.planCap) return `${base} (the ${cold.planCap.plan} plan keeps a paused compute warm for at most ${cold.planCap.seconds} s)`;
  if (cold.seconds === configured) return base;
  const why = cold.factor < 1 ? "rarely used" : "used often";
  return `${base} (adaptive: ${why}, woken ${cold.wakes} times in 24 h, cold after ${cold.seconds} s instead of ${configured} s)`;
}
