import { EmptyState } from "../ui/states";

/** For a user who left (or was removed from) every organization. */
export function NoOrganization() {
  return (
    <EmptyState title="You are not in an organization">
      Create one with &ldquo;New organization&rdquo; in the organization menu at the top, or open an invitation link someone sent you.
    </EmptyState>
  );
}
