import { db } from "../db";
import { notFound } from "../errors";
import { page } from "../util/paginate";
import { authorize, type Caller } from "../tenancy/caller";
import type { Pagination } from "@/lib/schemas";
import { invoiceLines, invoiceTotal, type InvoiceLine } from "./invoice-lines";
import type { MonthUsage } from "./estimate";
import { estimateCharges, projectToMonth } from "./estimate";
import { monthSpend } from "./month-spend";
import { monthBounds } from "./months";
import { planOf } from "./plans";

// The invoices API: the acting organization's finalised monthly invoices (server/billing/finalize-invoices.ts
// writes them), and the current month as a running estimate under the id "current" (what the invoice
// would say if the month ended now, with the month's projection beside it). Owners and admins, like
// billing; another organization's invoice is a 404.

export const CURRENT_INVOICE_ID = "current";

export interface InvoiceView {
  id: string;
  organizationId: string;
  /** The organization's name, for the printed invoice. */
  organizationName: string;
  /** The month's first instant (UTC). */
  month: string;
  /** "final" once the month is over and the invoice written; "estimate" for the current month. */
  status: "final" | "estimate";
  plan: string;
  lineItems: InvoiceLine[];
  usage: MonthUsage;
  totalUsd: number;
  finalizedAt: string | null;
  /** The current month only: the total projected to the month's end at the same rate. */
  projectedTotalUsd?: number;
}

type Row = { id: string; organizationId: string; organization: { name: string }; month: Date; plan: string; lineItems: unknown; usage: unknown; totalUsd: number; finalizedAt: Date };

function present(row: Row): InvoiceView {
  return {
    id: row.id,
    organizationId: row.organizationId,
    organizationName: row.organization.name,
    month: row.month.toISOString(),
    status: "final",
    plan: row.plan,
    lineItems: row.lineItems as InvoiceLine[],
    usage: row.usage as MonthUsage,
    totalUsd: row.totalUsd,
    finalizedAt: row.finalizedAt.toISOString(),
  };
}

async function currentEstimate(organizationId: string): Promise<InvoiceView> {
  const now = new Date();
  const [spend, org] = await Promise.all([monthSpend(organizationId, now), db.organization.findUniqueOrThrow({ where: { id: organizationId }, select: { name: true } })]);
  const plan = planOf(spend.plan);
  const lineItems = invoiceLines(plan, spend.usage);
  return {
    id: CURRENT_INVOICE_ID,
    organizationId,
    organizationName: org.name,
    month: monthBounds(now).start.toISOString(),
    status: "estimate",
    plan: spend.plan,
    lineItems,
    usage: spend.usage,
    totalUsd: invoiceTotal(lineItems),
    finalizedAt: null,
    projectedTotalUsd: estimateCharges(plan, projectToMonth(spend.usage, monthBounds(now).elapsed)).totalUsd,
  };
}

/** Newest first; the first page starts with the current month's estimate. */
export async function listInvoices({ caller, pagination }: { caller: Caller; pagination: Pagination }) {
  const organizationId = caller.organizationId;
  authorize(caller, organizationId, "billing.read");
  const rows = await db.invoice.findMany({
    where: { organizationId },
    include: { organization: { select: { name: true } } },
    orderBy: [{ month: "desc" }, { id: "desc" }],
    ...page.query(pagination),
  });
  const { items, nextCursor } = page.result(rows, pagination);
  const invoices = items.map(present);
  if (!pagination.cursor) invoices.unshift(await currentEstimate(organizationId));
  return { invoices, nextCursor };
}

export async function getInvoice({ caller, id }: { caller: Caller; id: string }): Promise<InvoiceView> {
  const organizationId = caller.organizationId;
  authorize(caller, organizationId, "billing.read");
  if (id === CURRENT_INVOICE_ID) return currentEstimate(organizationId);
  const row = await db.invoice.findFirst({ where: { id, organizationId }, include: { organization: { select: { name: true } } } });
  if (!row) throw notFound("invoice");
  return present(row);
}
