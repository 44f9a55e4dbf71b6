import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { waitFor } from "./compute";
import { db } from "../server/db";
import { finalizeClosedMonths, finalizeInvoice } from "../server/billing/finalize-invoices";
import { lastClosedMonth, monthBounds } from "../server/billing/months";
import { PLANS } from "../server/billing/plans";

// Invoices: one per organization and closed month, with line items priced at the plan in force, written
// by the scheduler (and by anyone else at the same time: still one), never changed after; the current
// month as a running estimate; another organization's invoice is a 404.

interface Line {
  kind: string;
  quantity: number;
  includedQuantity: number;
  billedQuantity: number;
  unitPriceUsd: number;
  amountUsd: number;
}
interface Invoice {
  id: string;
  month: string;
  status: string;
  plan: string;
  lineItems: Line[];
  totalUsd: number;
  finalizedAt: string | null;
}

const HOUR = 3_600_000;
const GB = 1e9;

/** Last month's use for the organization: `cuHours` over 10 hours, 60 GB through the proxy, 10 hourly storage samples of 2 GB. */
async function useLastMonth(organizationId: string, cuHours: number): Promise<Date> {
  const month = lastClosedMonth(new Date());
  const at = (h: number) => new Date(month.getTime() + 48 * HOUR + h * HOUR);
  const computeId = `test-${crypto.randomUUID()}`;
  await db.usageEvent.create({ data: { organizationId, computeId, state: "running", size: cuHours / 10, startedAt: at(0), endedAt: at(10) } });
  await db.transferHour.create({ data: { organizationId, computeId, hourStart: at(1), bytesIn: BigInt(20 * GB), bytesOut: BigInt(40 * GB) } });
  await db.storageSample.createMany({ data: Array.from({ length: 10 }, (_, h) => ({ organizationId, computeId, hourStart: at(h), bytes: BigInt(2 * GB) })) });
  return month;
}

/** Make the organization look as old as last month (the scheduler invoices organizations that existed in it). */
const backdate = (organizationId: string, month: Date) =>
  db.organization.update({ where: { id: organizationId }, data: { createdAt: new Date(month.getTime() - 24 * HOUR) } });

describe("invoices", () => {
  it("finalises a closed month once however often and by however many at once, prices it and never changes it", async () => {
    const tenant = await newTenant();
    const organizationId = tenant.organizationId;
    await db.organization.update({ where: { id: organizationId }, data: { plan: "pro" } }); // no audit event: pro throughout
    const month = await useLastMonth(organizationId, 320);
    await backdate(organizationId, month);

    // Twice in a row and twice at once, while the product's scheduler may be at it too: one invoice.
    const results = [await finalizeInvoice(organizationId, month), await finalizeInvoice(organizationId, month)];
    results.push(...(await Promise.all([finalizeInvoice(organizationId, month), finalizeInvoice(organizationId, month), finalizeClosedMonths()].map((p) => p.then(Boolean)))));
    expect(results.filter((r) => r === true).length).toBeLessThanOrEqual(1);
    const rows = await db.invoice.findMany({ where: { organizationId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.month.toISOString()).toBe(month.toISOString());

    // The line items: pro's base, 20 CU-hours past the 300 included, 10 GB past the 50, storage within 10 GB-months.
    const pro = PLANS.pro;
    const res = await call<{ invoice: Invoice }>("GET", `/api/v1/invoices/${rows[0]!.id}`, { key: tenant.key });
    expect(res.status).toBe(200);
    const invoice = res.body.invoice;
    expect(invoice).toMatchObject({ status: "final", plan: "pro", month: month.toISOString() });
    const line = (kind: string) => invoice.lineItems.find((l) => l.kind === kind)!;
    expect(line("base").amountUsd).toBe(pro.baseMonthly);
    expect(line("compute")).toMatchObject({ quantity: 320, includedQuantity: 300, billedQuantity: 20, amountUsd: 3.2 });
    expect(line("transfer")).toMatchObject({ quantity: 60, includedQuantity: 50, billedQuantity: 10, amountUsd: 0.9 });
    const hoursInMonth = (monthBounds(month).end.getTime() - month.getTime()) / HOUR;
    expect(line("storage").quantity).toBeCloseTo((10 * 2) / hoursInMonth, 5);
    expect(line("storage").amountUsd).toBe(0);
    expect(invoice.totalUsd).toBe(23.1);

    // Never changed after: the database refuses, whoever asks.
    await expect(db.invoice.update({ where: { id: invoice.id }, data: { totalUsd: 0 } })).rejects.toThrow(/final/);
    await expect(db.$executeRaw`UPDATE "Invoice" SET "totalUsd" = 0 WHERE id = ${invoice.id}`).rejects.toThrow(/final/);
    // Nor deleted (the scheduler would write it again from use found since), except with its organization.
    await expect(db.invoice.delete({ where: { id: invoice.id } })).rejects.toThrow(/final and cannot be deleted/);
    await expect(db.$executeRaw`DELETE FROM "Invoice" WHERE id = ${invoice.id}`).rejects.toThrow(/final and cannot be deleted/);
    expect(await db.invoice.count({ where: { id: invoice.id } })).toBe(1);
    // More use of that month found later does not change it either.
    await useLastMonth(organizationId, 100);
    expect(await finalizeInvoice(organizationId, month)).toBe(false);
    expect((await db.invoice.findUniqueOrThrow({ where: { id: invoice.id } })).totalUsd).toBe(23.1);

    // The list: this month's running estimate first, then the final one.
    const list = await call<{ invoices: Invoice[] }>("GET", "/api/v1/invoices", { key: tenant.key });
    expect(list.status).toBe(200);
    expect(list.body.invoices.map((i) => [i.id, i.status])).toEqual([
      ["current", "estimate"],
      [invoice.id, "final"],
    ]);
    const current = list.body.invoices[0]!;
    expect(current.month).toBe(monthBounds(new Date()).start.toISOString());
    expect(current.finalizedAt).toBeNull();
    expect(current.totalUsd).toBeGreaterThanOrEqual(pro.baseMonthly);
    expect((await call<{ invoice: Invoice }>("GET", "/api/v1/invoices/current", { key: tenant.key })).body.invoice.status).toBe("estimate");

    // Another organization sees none of it.
    const other = await newTenant();
    expect((await call("GET", `/api/v1/invoices/${invoice.id}`, { key: other.key })).status).toBe(404);
    expect((await call<{ invoices: Invoice[] }>("GET", "/api/v1/invoices", { key: other.key })).body.invoices.map((i) => i.id)).toEqual(["current"]);
    expect((await call("GET", "/api/v1/invoices/nope", { key: tenant.key })).status).toBe(404);
  });

  it("goes with its organization: deleting the organization removes its final invoices", async () => {
    const tenant = await newTenant();
    const month = await useLastMonth(tenant.organizationId, 5);
    await backdate(tenant.organizationId, month);
    await finalizeInvoice(tenant.organizationId, month);
    expect(await db.invoice.count({ where: { organizationId: tenant.organizationId } })).toBe(1);
    await db.organization.delete({ where: { id: tenant.organizationId } });
    expect(await db.invoice.count({ where: { organizationId: tenant.organizationId } })).toBe(0);
  });

  it("is written by the scheduler once the month is over, at the plan in force at its end", async () => {
    const tenant = await newTenant();
    const month = await useLastMonth(tenant.organizationId, 50);
    // Upgraded to pro after the month ended (audited now): last month is invoiced on free, at nothing.
    const up = await call("PATCH", "/api/v1/billing", { key: tenant.key, body: { plan: "pro" } });
    expect(up.status).toBe(200);
    await backdate(tenant.organizationId, month);
    const invoice = await waitFor(async () => {
      const res = await call<{ invoices: Invoice[] }>("GET", "/api/v1/invoices", { key: tenant.key });
      return res.body.invoices.find((i) => i.status === "final");
    }, 30_000, "the scheduler's invoice");
    expect(invoice).toMatchObject({ month: month.toISOString(), plan: "free", totalUsd: 0 });
    expect(invoice.lineItems.find((l) => l.kind === "compute")).toMatchObject({ quantity: 50, billedQuantity: 0 });
  });
});
