"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { can, type MemberRole, type Permission } from "@/lib/roles";
import { cn } from "../ui/cn";

// The console's sections; the audit log and billing only for the roles that may read them (lib/roles.ts).
const ITEMS: { href: string; label: string; needs?: Permission }[] = [
  { href: "/projects", label: "Projects" },
  { href: "/api-keys", label: "API keys" },
  { href: "/members", label: "Members" },
  { href: "/audit-log", label: "Audit log", needs: "audit_log.read" },
  { href: "/billing", label: "Billing", needs: "billing.read" },
  { href: "/account", label: "Account" },
];

export function ConsoleNav({ role, hasOrganization }: { role: MemberRole; hasOrganization: boolean }) {
  const pathname = usePathname();
  const items = ITEMS.filter((item) => !item.needs || (hasOrganization && can(role, item.needs)));
  return (
    <nav aria-label="Console" className="-mb-px flex gap-1 overflow-x-auto">
      {items.map((item) => {
        const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={active ? "page" : undefined}
            className={cn(
              "shrink-0 border-b-2 px-3 py-2 text-sm font-medium",
              active ? "border-indigo-600 text-indigo-700" : "border-transparent text-slate-700 hover:border-slate-300 hover:text-slate-900",
            )}
          >
            {item.label}
          </Link>
        );
      })}
    </nav>
  );
}
