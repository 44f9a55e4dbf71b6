import { asJson, consoleCaller } from "@/app/_lib/console";
import { BillingCharts } from "@/components/billing/billing-charts";
import { BillingView } from "@/components/billing/billing-view";
import { SpendAndInvoices } from "@/components/billing/spend-and-invoices";
import { NoOrganization } from "@/components/organizations/no-organization";
import { PageHeader } from "@/components/ui/page-header";
import { EmptyState } from "@/components/ui/states";
import type { Billing, BillingSpend } from "@/lib/api-types";
import { can } from "@/lib/roles";
import { getBilling } from "@/server/billing/billing";

export const metadata = { title: "Billing · MariaDB Serverless" };

export default async function BillingPage() {
  const caller = await consoleCaller();
  if (!caller.organizationId) return <NoOrganization />;
  const header = <PageHeader title="Billing" description="The plan, its limits and this month's use." />;
  if (!can(caller.role, "billing.read")) {
    return (
      <>
        {header}
        <EmptyState title="Owners and admins only">Your role here is {caller.role}; ask an owner or admin about the plan.</EmptyState>
      </>
    );
  }
  const billing = await getBilling({ caller });
  return (
    <>
      {header}
      <BillingView key={caller.organizationId} organizationId={caller.organizationId} initial={asJson<Billing>(billing)} />
      <SpendAndInvoices key={`spend-${caller.organizationId}`} organizationId={caller.organizationId} initial={asJson<Billing & BillingSpend>(billing)} />
      {/* The usage charts, in one place below the plan (components/billing/billing-charts.tsx). */}
      <div className="mt-6">
        <BillingCharts key={`charts-${caller.organizationId}`} organizationId={caller.organizationId} />
      </div>
    </>
  );
}
