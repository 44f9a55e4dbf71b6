import Link from "next/link";
import type { Billing, BillingSpend } from "@/lib/api-types";
import { usd } from "@/lib/format";
import { Card } from "../ui/card";
import { SpendCapForm } from "./spend-cap-form";

/** The billing page's spend-cap form and the way to the invoices (one block of the page). */
export function SpendAndInvoices({ organizationId, initial }: { organizationId: string; initial: Billing & BillingSpend }) {
  return (
    <div className="mt-6 space-y-6">
      <SpendCapForm organizationId={organizationId} initial={initial} />
      <Card title="Invoices" description="One a month, final once the month is over; this month's so far is a running estimate.">
        <p className="text-sm text-slate-800">
          This month so far: <strong>{usd(initial.spendToDateUsd)}</strong>.{" "}
          <Link href="/billing/invoices" className="font-medium text-indigo-700 underline underline-offset-2 hover:text-indigo-900">
            View invoices
          </Link>
        </p>
      </Card>
    </div>
  );
}
