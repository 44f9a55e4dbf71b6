import Link from "next/link";
import { asJson, consoleCaller } from "@/app/_lib/console";
import { InvoiceList } from "@/components/billing/invoice-list";
import { BillingOwnersOnly } from "@/components/billing/owners-only";
import { NoOrganization } from "@/components/organizations/no-organization";
import { PageHeader } from "@/components/ui/page-header";
import type { Invoice } from "@/lib/api-types";
import { can } from "@/lib/roles";
import { listInvoices } from "@/server/billing/invoices";

export const metadata = { title: "Invoices · MariaDB Serverless" };

const PER_PAGE = 24;

export default async function InvoicesPage({ searchParams }: { searchParams: Promise<{ cursor?: string }> }) {
  const caller = await consoleCaller();
  if (!caller.organizationId) return <NoOrganization />;
  const header = (
    <PageHeader
      title="Invoices"
      description={
        <>
          Monthly invoices with their line items. <Link href="/billing" className="text-indigo-700 underline underline-offset-2">Back to billing</Link>
        </>
      }
    />
  );
  if (!can(caller.role, "billing.read")) {
    return (
      <>
        {header}
        <BillingOwnersOnly role={caller.role} />
      </>
    );
  }
  const { cursor } = await searchParams;
  const { invoices, nextCursor } = await listInvoices({ caller, pagination: { limit: PER_PAGE, cursor: cursor || undefined } });
  return (
    <>
      {header}
      <InvoiceList invoices={asJson<Invoice[]>(invoices)} olderHref={nextCursor ? `/billing/invoices?cursor=${encodeURIComponent(nextCursor)}` : null} />
    </>
  );
}
