import type { MonthUsage } from "./estimate";
import type { PlanDefinition } from "./plans";

// An invoice's line items for a month's use on a plan: the base price, then compute, storage and transfer,
// each with what was used, what the plan includes, what is billed past it, the unit price and the amount.
// The amounts are estimateCharges' (server/billing/estimate.ts), so an invoice and the billing page agree.

export type InvoiceLineKind = "base" | "compute" | "storage" | "transfer";

export interface InvoiceLine {
  kind: InvoiceLineKind;
  description: string;
  quantity: number;
  unit: string;
  includedQuantity: number;
  billedQuantity: number;
  unitPriceUsd: number;
  amountUsd: number;
}

const cents = (n: number) => Math.round(n * 100) / 100;
/** Quantities keep 6 decimals (a CU-second is 0.000278 CU-hours). */
const exact = (n: number) => Math.round(n * 1e6) / 1e6;

function metered(kind: InvoiceLineKind, description: string, unit: string, used: number, included: number, price: number): InvoiceLine {
  const billed = Math.max(0, used - included);
  return {
    kind,
    description,
    quantity: exact(used),
    unit,
    includedQuantity: included,
    billedQuantity: exact(billed),
    unitPriceUsd: price,
    amountUsd: cents(billed * price),
  };
}

export function invoiceLines(plan: PlanDefinition, usage: MonthUsage): InvoiceLine[] {
  return [
    { kind: "base", description: `${plan.name} plan, monthly`, quantity: 1, unit: "month", includedQuantity: 0, billedQuantity: 1, unitPriceUsd: plan.baseMonthly, amountUsd: plan.baseMonthly },
    metered("compute", "Compute", "CU-hours", usage.cuHours, plan.included.cuHours, plan.prices.perCuHour),
    metered("storage", "Storage", "GB-months", usage.storageGbMonths, plan.included.storageGbMonths, plan.prices.perGbMonth),
    metered("transfer", "Data transfer through the proxy", "GB", usage.transferGb, plan.included.transferGb, plan.prices.perTransferGb),
  ];
}

export function invoiceTotal(lines: InvoiceLine[]): number {
  return cents(lines.reduce((sum, l) => sum + l.amountUsd, 0));
}
