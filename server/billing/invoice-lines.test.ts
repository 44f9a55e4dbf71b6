import { describe, expect, it } from "vitest";
import { estimateCharges } from "./estimate";
import { invoiceLines, invoiceTotal } from "./invoice-lines";
import { PLANS } from "./plans";
import { INVOICE_GRACE_MS, lastClosedMonth } from "./months";

describe("invoiceLines", () => {
  it("bills each quantity past the plan's included amount, and totals what the billing page estimates", () => {
    const pro = PLANS.pro;
    const usage = { cuHours: pro.included.cuHours + 12.5, storageGbMonths: pro.included.storageGbMonths - 1, transferGb: pro.included.transferGb + 3 };
    const lines = invoiceLines(pro, usage);
    expect(lines.map((l) => l.kind)).toEqual(["base", "compute", "storage", "transfer"]);
    const compute = lines.find((l) => l.kind === "compute")!;
    expect(compute).toMatchObject({ quantity: usage.cuHours, includedQuantity: pro.included.cuHours, billedQuantity: 12.5, unitPriceUsd: pro.prices.perCuHour });
    expect(compute.amountUsd).toBe(Math.round(12.5 * pro.prices.perCuHour * 100) / 100);
    expect(lines.find((l) => l.kind === "storage")).toMatchObject({ billedQuantity: 0, amountUsd: 0 });
    expect(lines.find((l) => l.kind === "transfer")!.billedQuantity).toBe(3);
    expect(invoiceTotal(lines)).toBe(estimateCharges(pro, usage).totalUsd);
  });

  it("is nothing on free within its included amounts", () => {
    expect(invoiceTotal(invoiceLines(PLANS.free, { cuHours: 40, storageGbMonths: 0.2, transferGb: 1 }))).toBe(0);
  });
});

describe("lastClosedMonth", () => {
  it("is the month before, once the grace after its end has passed", () => {
    const dec1 = Date.UTC(2026, 11, 1);
    expect(lastClosedMonth(new Date(dec1 + INVOICE_GRACE_MS)).toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(lastClosedMonth(new Date(dec1 + INVOICE_GRACE_MS - 1)).toISOString()).toBe("2026-10-01T00:00:00.000Z");
    expect(lastClosedMonth(new Date(Date.UTC(2027, 0, 15))).toISOString()).toBe("2026-12-01T00:00:00.000Z");
  });
});
