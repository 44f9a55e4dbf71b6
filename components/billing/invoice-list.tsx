import Link from "next/link";
import type { Invoice } from "@/lib/api-types";
import { monthName, usd } from "@/lib/format";
import { Card } from "../ui/card";
import { EmptyState } from "../ui/states";

/** The organization's invoices, newest first: this month's running estimate, then the final ones. */
export function InvoiceList({ invoices, olderHref }: { invoices: Invoice[]; olderHref: string | null }) {
  return (
    <Card title="By month" description="An invoice is final once its month is over and never changes after; the current month is an estimate of what it has cost so far.">
      {invoices.length === 0 ? (
        <EmptyState title="No invoices yet">The first one is written when this organization&apos;s first month ends.</EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100" aria-label="Invoices">
          {invoices.map((invoice) => (
            <li key={invoice.id} className="flex flex-wrap items-center justify-between gap-x-4 gap-y-1 py-3" data-testid="invoice-row">
              <div className="min-w-0">
                <Link href={`/billing/invoices/${invoice.id}`} className="font-medium text-indigo-700 underline-offset-2 hover:underline">
                  {monthName(invoice.month)}
                </Link>
                <p className="text-xs text-slate-600">
                  <span className="capitalize">{invoice.plan}</span> plan ·{" "}
                  {invoice.status === "estimate" ? "estimate, month in progress" : `final since ${new Date(invoice.finalizedAt!).toISOString().slice(0, 10)}`}
                </p>
              </div>
              <p className="text-right text-sm font-semibold text-slate-900 tabular-nums">
                {usd(invoice.totalUsd)}
                {invoice.status === "estimate" ? <span className="ml-1 text-xs font-normal text-slate-600">so far</span> : null}
              </p>
            </li>
          ))}
        </ul>
      )}
      {olderHref ? (
        <p className="mt-3 text-sm">
          <Link href={olderHref} className="font-medium text-indigo-700 underline underline-offset-2">
            Older invoices
          </Link>
        </p>
      ) : null}
    </Card>
  );
}
