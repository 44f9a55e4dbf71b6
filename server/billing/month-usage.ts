import { db } from "../db";
import type { MonthUsage } from "./estimate";

// An organization's metered use in the current UTC month so far, in billing units: CU-hours (given: the
// quota computes them), GB-months of storage (each hourly sample holds for its hour) and GB through the
// proxy.

const GB = 1e9;

export function monthBounds(now: Date): { start: Date; end: Date; elapsed: number } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start, end, elapsed: (now.getTime() - start.getTime()) / (end.getTime() - start.getTime()) };
}

export async function monthToDate(organizationId: string, cuHours: number, now = new Date()): Promise<MonthUsage> {
  const { start, end } = monthBounds(now);
  const hoursInMonth = (end.getTime() - start.getTime()) / 3_600_000;
  const where = { organizationId, hourStart: { gte: start, lt: end } };
  const [storage, transfer] = await Promise.all([
    db.storageSample.aggregate({ where, _sum: { bytes: true } }),
    db.transferHour.aggregate({ where, _sum: { bytesIn: true, bytesOut: true } }),
  ]);
  const byteHours = Number(storage._sum.bytes ?? 0n);
  const bytes = Number(transfer._sum.bytesIn ?? 0n) + Number(transfer._sum.bytesOut ?? 0n);
  return { cuHours, storageGbMonths: byteHours / GB / hoursInMonth, transferGb: bytes / GB };
}
