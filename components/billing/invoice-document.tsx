import type { Invoice } from "@/lib/api-types";
import { monthName, usd } from "@/lib/format";

const quantity = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 4 });
const unitPrice = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;

/**
 * One invoice as a document: who, which month, whether final, and each line with what was used, what the
 * plan includes, what is billed and at what price. Printable: plain black on white, no navigation (the
 * console hides its header in print).
 */
export function InvoiceDocument({ invoice }: { invoice: Invoice }) {
  const estimate = invoice.status === "estimate";
  return (
    <article className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-8 print:border-0 print:p-0 print:shadow-none" aria-label="Invoice">
      <header className="flex flex-wrap items-start justify-between gap-4 border-b border-slate-200 pb-4">
        <div>
          <p className="text-sm text-slate-600">MariaDB Serverless</p>
          <h2 className="text-xl font-semibold text-slate-900">
            {estimate ? "Estimate" : "Invoice"} · {monthName(invoice.month)}
          </h2>
          <p className="mt-1 text-sm text-slate-700">
            {invoice.organizationName} · <span className="capitalize">{invoice.plan}</span> plan
          </p>
        </div>
        <dl className="text-sm text-slate-700 sm:text-right">
          <dt className="sr-only">Number</dt>
          <dd className="font-mono text-xs break-all">{estimate ? "not final" : invoice.id}</dd>
          <dt className="sr-only">Status</dt>
          <dd data-testid="invoice-status">
            {estimate ? "Running estimate: the month is not over" : `Final, ${new Date(invoice.finalizedAt!).toISOString().slice(0, 10)}`}
          </dd>
        </dl>
      </header>

      {/* Narrow screens drop the included and price columns (the billed quantity and amount stay); print shows all. */}
      <div className="mt-4 overflow-x-auto" tabIndex={0} role="region" aria-label="Line items">
        <table className="w-full text-sm">
          <caption className="sr-only">Line items</caption>
          <thead>
            <tr className="border-b border-slate-200 text-left text-xs text-slate-600 uppercase">
              <th scope="col" className="py-2 pr-3 font-medium">Item</th>
              <th scope="col" className="py-2 pr-3 text-right font-medium">Used</th>
              <th scope="col" className="hidden sm:table-cell print:table-cell py-2 pr-3 text-right font-medium">Included</th>
              <th scope="col" className="py-2 pr-3 text-right font-medium">Billed</th>
              <th scope="col" className="hidden sm:table-cell print:table-cell py-2 pr-3 text-right font-medium">Price</th>
              <th scope="col" className="py-2 text-right font-medium">Amount</th>
            </tr>
          </thead>
          <tbody>
            {invoice.lineItems.map((line) => (
              <tr key={line.kind} className="border-b border-slate-100 align-top" data-testid="invoice-line">
                <th scope="row" className="py-2 pr-3 text-left font-normal text-slate-900">
                  {line.description}
                </th>
                <td className="py-2 pr-3 text-right tabular-nums">
                  {quantity(line.quantity)} <span className="text-slate-600">{line.unit}</span>
                </td>
                <td className="hidden sm:table-cell print:table-cell py-2 pr-3 text-right tabular-nums">{line.kind === "base" ? "" : quantity(line.includedQuantity)}</td>
                <td className="py-2 pr-3 text-right tabular-nums">{quantity(line.billedQuantity)}</td>
                <td className="hidden sm:table-cell print:table-cell py-2 pr-3 text-right tabular-nums">{unitPrice(line.unitPriceUsd)}</td>
                <td className="py-2 text-right font-medium tabular-nums">{usd(line.amountUsd)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={5} className="pt-3 pr-3 text-right font-semibold text-slate-900">
                {estimate ? "Total so far" : "Total"}
              </th>
              <td className="pt-3 text-right text-base font-semibold tabular-nums" data-testid="invoice-total">
                {usd(invoice.totalUsd)}
              </td>
            </tr>
            {estimate && invoice.projectedTotalUsd !== undefined ? (
              <tr>
                <th scope="row" colSpan={5} className="pt-1 pr-3 text-right font-normal text-slate-600">
                  Projected for the whole month
                </th>
                <td className="pt-1 text-right text-slate-600 tabular-nums">{usd(invoice.projectedTotalUsd)}</td>
              </tr>
            ) : null}
          </tfoot>
        </table>
      </div>
      <p className="mt-6 text-xs text-slate-600">
        Prices in USD. Compute is billed per CU-hour while a compute runs (never while paused or suspended); storage per GB-month (10^9 bytes held for a
        month); transfer per GB through the proxy, both ways. Each is billed past the amount the plan includes.
      </p>
    </article>
  );
}
