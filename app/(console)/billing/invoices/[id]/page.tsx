import Link from "next/link";
import { notFound } from "next/navigation";
import { asJson, consoleCaller, isNotFound } from "@/app/_lib/console";
import { InvoiceDocument } from "@/components/billing/invoice-document";
import { BillingOwnersOnly } from "@/components/billing/owners-only";
import { PrintButton } from "@/components/billing/print-button";
import { NoOrganization } from "@/components/organizations/no-organization";
import { PageHeader } from "@/components/ui/page-header";
import type { Invoice } from "@/lib/api-types";
import { monthName } from "@/lib/format";
import { can } from "@/lib/roles";
import { getInvoice } from "@/server/billing/invoices";

export const metadata = { title: "Invoice · MariaDB Serverless" };

// A printable invoice of the acting organization; another organization's is the same 404 as a missing one.
export default async function InvoicePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const caller = await consoleCaller();
  if (!caller.organizationId) return <NoOrganization />;
  if (!can(caller.role, "billing.read")) {
    return (
      <>
        <PageHeader title="Invoice" />
        <BillingOwnersOnly role={caller.role} />
      </>
    );
  }
  let invoice;
  try {
    invoice = await getInvoice({ caller, id });
  } catch (error) {
    if (isNotFound(error)) notFound();
    throw error;
  }
  return (
    <>
      <div className="print:hidden">
        <PageHeader
          title={`${invoice.status === "estimate" ? "Estimate" : "Invoice"} for ${monthName(invoice.month)}`}
          description={
            <Link href="/billing/invoices" className="text-indigo-700 underline underline-offset-2">
              All invoices
            </Link>
          }
          actions={<PrintButton />}
        />
      </div>
      <InvoiceDocument invoice={asJson<Invoice>(invoice)} />
    </>
  );
}
