import { EmptyState } from "@/components/ui/states";
import { LinkButton } from "@/components/ui/link-button";

export default function InvoiceNotFound() {
  return (
    <EmptyState title="Invoice not found" action={<LinkButton href="/billing/invoices">Your invoices</LinkButton>}>
      There is no such invoice in your organization.
    </EmptyState>
  );
}
