"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { cn } from "../ui/cn";

// The console's sections. Members and Audit log arrive with the organizations API, Billing with usage
// billing: they are listed (so the navigation does not move when they arrive) but not yet links.
const ITEMS: { href: string; label: string; soon?: string }[] = [
  { href: "/projects", label: "Projects" },
  { href: "/api-keys", label: "API keys" },
  { href: "/members", label: "Members", soon: "Members and invitations are coming soon" },
  { href: "/audit-log", label: "Audit log", soon: "The audit log is coming soon" },
  { href: "/billing", label: "Billing", soon: "Usage and billing are coming soon" },
];

export function ConsoleNav() {
  const pathname = usePathname();
  return (
    <nav aria-label="Console" className="-mb-px flex gap-1 overflow-x-auto">
      {ITEMS.map((item) => {
        if (item.soon) {
          return (
            <span
              key={item.href}
              aria-disabled="true"
              title={item.soon}
              className="flex shrink-0 items-center gap-1 border-b-2 border-transparent px-3 py-2 text-sm text-slate-500"
            >
              {item.label}
              <span className="rounded bg-slate-100 px-1 text-[10px] font-medium tracking-wide text-slate-600 uppercase">soon</span>
            </span>
          );
        }
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
