import { db } from "../db";
import type { MonthUsage } from "./estimate";
import { monthBounds } from "./months";

// An organization's metered use in a UTC month, in billing units: CU-hours (given: the quota computes
// them), GB-months of storage (each hourly sample holds for its hour) and GB through the proxy. The
// current month counts up to now; a closed month (an invoice) counts whole.

const GB = 1e9;

export async function monthToDate(organizationId: string, cuHours: number, now = new Date()): Promise<MonthUsage> {
  return monthUsage(organizationId, cuHours, monthBounds(now).start);
}

/** Storage and transfer of the month that begins at `month` (samples and hours inside it), with `cuHours`. */
export async function monthUsage(organizationId: string, cuHours: number, month: Date): Promise<MonthUsage> {
  const { start, end } = monthBounds(month);
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
