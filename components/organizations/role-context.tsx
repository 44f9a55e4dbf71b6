"use client";

import { createContext, useContext, type ReactNode } from "react";
import { can, type MemberRole, type Permission } from "@/lib/roles";

// The signed-in member's role in the organization a page shows, so components show only what that role
// may do. The same table (lib/roles.ts) authorizes every request in server/: hiding a button is a
// courtesy, the API's 403 is the rule.

const RoleContext = createContext<MemberRole>("viewer");

export function RoleProvider({ role, children }: { role: MemberRole; children: ReactNode }) {
  return <RoleContext.Provider value={role}>{children}</RoleContext.Provider>;
}

export function useRole(): MemberRole {
  return useContext(RoleContext);
}

export function useCan(permission: Permission): boolean {
  return can(useRole(), permission);
}

/** Shown where a form would be, for a role that may only read. */
export function ReadOnlyNote({ children }: { children: ReactNode }) {
  return (
    <p className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-700" data-testid="read-only-note">
      {children}
    </p>
  );
}
