// UTC calendar months, as billing counts them (pure: used by the spend cap, estimates and invoices).

/** A month is invoiced this long after it ends, so the last transitions, transfer flushes and samples are in. */
export const INVOICE_GRACE_MS = 10 * 60_000;

/** The UTC month holding `now`: its first instant, the next month's, and the fraction of it elapsed. */
export function monthBounds(now: Date): { start: Date; end: Date; elapsed: number } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start, end, elapsed: (now.getTime() - start.getTime()) / (end.getTime() - start.getTime()) };
}

/** The last month whose invoices are due at `now` (its first instant): the month before, once the grace has passed. */
export function lastClosedMonth(now: Date): Date {
  const current = monthBounds(new Date(now.getTime() - INVOICE_GRACE_MS)).start;
  return new Date(Date.UTC(current.getUTCFullYear(), current.getUTCMonth() - 1, 1));
}
