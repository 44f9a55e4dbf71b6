import { asJson, consoleCaller } from "@/app/_lib/console";
import { AuditLogView } from "@/components/audit/audit-log-view";
import { NoOrganization } from "@/components/organizations/no-organization";
import { PageHeader } from "@/components/ui/page-header";
import { EmptyState } from "@/components/ui/states";
import type { AuditEvent } from "@/lib/api-types";
import { can } from "@/lib/roles";
import { AUDIT_PAGE_SIZE } from "@/lib/audit";
import { listAuditEvents } from "@/server/audit/list-audit-events";

export const metadata = { title: "Audit log · MariaDB Serverless" };

export default async function AuditLogPage() {
  const caller = await consoleCaller();
  if (!caller.organizationId) return <NoOrganization />;
  const header = <PageHeader title="Audit log" description="Who changed members, roles, invitations, API keys, database roles and the plan, and when." />;
  if (!can(caller.role, "audit_log.read")) {
    return (
      <>
        {header}
        <EmptyState title="Owners and admins only">Your role here is {caller.role}; ask an owner or admin if you need to see the audit log.</EmptyState>
      </>
    );
  }
  const { items, nextCursor } = await listAuditEvents({ caller, pagination: { limit: AUDIT_PAGE_SIZE } });
  return (
    <>
      {header}
      <AuditLogView key={caller.organizationId} organizationId={caller.organizationId} initial={asJson<{ auditEvents: AuditEvent[]; nextCursor: string | null }>({ auditEvents: items, nextCursor })} />
    </>
  );
}
