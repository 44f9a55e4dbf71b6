import { EmptyState } from "../ui/states";

/** What a member or viewer sees on a billing page: billing is for owners and admins. */
export function BillingOwnersOnly({ role }: { role: string }) {
  return <EmptyState title="Owners and admins only">Your role here is {role}; ask an owner or admin about billing.</EmptyState>;
}
