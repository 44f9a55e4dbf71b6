"use client";

import { useQuery } from "@tanstack/react-query";
import { api } from "@/lib/api-client";
import { AUDIT_PAGE_SIZE } from "@/lib/audit";
import type { AuditEvent, Billing, Invitation, Member, Organization } from "@/lib/api-types";
import { keys } from "./keys";

// Organizations, members, invitations, the audit log and billing through the REST API. Every call names
// the organization the page shows (`?organizationId=`), so a switch made in another tab cannot make a
// change land in another organization.

const SLOW_MS = 10_000;

/** `path` acting in `organizationId`. */
export const inOrg = (path: string, organizationId: string) =>
  `${path}${path.includes("?") ? "&" : "?"}organizationId=${encodeURIComponent(organizationId)}`;

export function useOrganizations(initialData?: Organization[]) {
  return useQuery({
    queryKey: keys.organizations(),
    queryFn: async () => (await api<{ organizations: Organization[] }>("GET", "/api/v1/organizations")).organizations,
    initialData,
  });
}

export function useMembers(organizationId: string, initialData?: Member[]) {
  return useQuery({
    queryKey: keys.members(organizationId),
    queryFn: async () => (await api<{ members: Member[] }>("GET", inOrg("/api/v1/members?limit=100", organizationId))).members,
    initialData,
    refetchInterval: SLOW_MS,
  });
}

export function useInvitations(organizationId: string, initialData?: Invitation[], enabled = true) {
  return useQuery({
    queryKey: keys.invitations(organizationId),
    queryFn: async () => (await api<{ invitations: Invitation[] }>("GET", inOrg("/api/v1/invitations?limit=100", organizationId))).invitations,
    initialData,
    enabled,
    refetchInterval: SLOW_MS,
  });
}

export const AUDIT_PAGE = AUDIT_PAGE_SIZE;

export function useAuditLog(organizationId: string, cursor: string | null, initialData?: { auditEvents: AuditEvent[]; nextCursor: string | null }) {
  return useQuery({
    queryKey: keys.auditLog(organizationId, cursor),
    queryFn: () =>
      api<{ auditEvents: AuditEvent[]; nextCursor: string | null }>(
        "GET",
        inOrg(`/api/v1/audit-log?limit=${AUDIT_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, organizationId),
      ),
    initialData: cursor === null ? initialData : undefined,
    refetchInterval: cursor === null ? SLOW_MS : false,
  });
}

export function useBilling(organizationId: string, initialData?: Billing) {
  return useQuery({
    queryKey: keys.billing(organizationId),
    queryFn: async () => (await api<{ billing: Billing }>("GET", inOrg("/api/v1/billing", organizationId))).billing,
    initialData,
    refetchInterval: 30_000,
  });
}
