"use client";

import { describeAuditEvent } from "@/lib/audit";
import { errorMessage } from "@/lib/api-client";
import type { AuditEvent } from "@/lib/api-types";
import { AUDIT_PAGE, useAuditLog } from "../data/organizations";
import { Card } from "../ui/card";
import { CursorPager, useCursorPages } from "../ui/cursor-pager";
import { RelativeTime } from "../ui/relative-time";
import { EmptyState, ErrorState, SkeletonRows } from "../ui/states";

/** Who changed members, roles, invitations, keys and the plan, and when; newest first, paged. */
export function AuditLogView({ organizationId, initial }: { organizationId: string; initial: { auditEvents: AuditEvent[]; nextCursor: string | null } }) {
  const pages = useCursorPages();
  const { cursor } = pages;
  const { data, error, isPending, refetch } = useAuditLog(organizationId, cursor, initial);
  return (
    <Card title="Events" description={`${AUDIT_PAGE} per page. Times are relative; hover or focus one for the exact time.`}>
      {isPending ? (
        <SkeletonRows rows={5} label="Loading the audit log" />
      ) : error && !data ? (
        <ErrorState message={`Could not load the audit log: ${errorMessage(error)}`} onRetry={() => void refetch()} />
      ) : !data?.auditEvents.length ? (
        <EmptyState title="Nothing recorded yet">Invitations, role changes, removals, API keys, database roles and plan changes appear here.</EmptyState>
      ) : (
        <>
          <ol className="divide-y divide-slate-100" aria-label="Audit events">
            {data.auditEvents.map((e) => (
              <li key={e.id} className="grid gap-1 py-3 sm:grid-cols-[9rem_1fr] sm:gap-4" data-testid="audit-row">
                <span className="text-sm text-slate-600">
                  <RelativeTime at={e.createdAt} />
                </span>
                <div className="min-w-0 text-sm">
                  <p className="break-words text-slate-900">
                    <span className="font-medium">{who(e)}</span> {describeAuditEvent(e)}
                  </p>
                  <p className="font-mono text-xs text-slate-600">{e.action}</p>
                </div>
              </li>
            ))}
          </ol>
          <CursorPager pages={pages} nextCursor={data.nextCursor} />
        </>
      )}
    </Card>
  );
}

/** The person, and whether they acted through an API key. */
function who(e: AuditEvent): string {
  const person = e.actorEmail ?? "someone no longer known";
  return e.actor.startsWith("api_key:") ? `${person} (API key)` : person;
}
