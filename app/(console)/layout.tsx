import Link from "next/link";
import type { ReactNode } from "react";
import { asJson, consoleCaller } from "@/app/_lib/console";
import { signOut } from "@/app/_lib/auth";
import { ConsoleNav } from "@/components/layout/console-nav";
import { OrganizationSwitcher } from "@/components/organizations/organization-switcher";
import { RoleProvider } from "@/components/organizations/role-context";
import { Button } from "@/components/ui/button";
import type { Organization } from "@/lib/api-types";
import { listOrganizations } from "@/server/organizations/list-organizations";
import { spendCapWarning } from "@/server/billing/spend-cap";
import { SpendCapBanner } from "@/components/billing/spend-cap-banner";
import type { SpendCap } from "@/lib/api-types";
import { can } from "@/lib/roles";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const caller = await consoleCaller();
  const organizations = asJson<Organization[]>(await listOrganizations({ caller }));
  // Every page warns when the organization's spend reaches 80 % or 100 % of its monthly cap.
  const spendCap = caller.organizationId ? await spendCapWarning(caller.organizationId) : null;
  return (
    <RoleProvider role={caller.role}>
      <div className="min-h-screen">
        <header className="border-b border-slate-200 bg-white print:hidden">
          <div className="mx-auto flex max-w-6xl items-center justify-between gap-2 px-4 pt-3 sm:px-6">
            <div className="flex min-w-0 items-center gap-2 sm:gap-3">
              <Link href="/projects" className="shrink-0 font-semibold text-slate-900">
                <span className="sm:hidden">MariaDB</span>
                <span className="hidden sm:inline">MariaDB Serverless</span>
              </Link>
              <span aria-hidden="true" className="text-slate-300">
                /
              </span>
              <OrganizationSwitcher organizations={organizations} />
            </div>
            <div className="flex min-w-0 items-center gap-1 sm:gap-2">
              <Link
                href="/account"
                className="hidden max-w-[16rem] truncate rounded px-2 py-1 text-sm text-slate-700 hover:bg-slate-100 hover:text-slate-900 sm:block"
                data-testid="signed-in-as"
                title="Your account"
              >
                {caller.email}
              </Link>
              <form
                action={async () => {
                  "use server";
                  await signOut({ redirectTo: "/" });
                }}
              >
                <Button type="submit" variant="ghost" size="sm" className="whitespace-nowrap">
                  Sign out
                </Button>
              </form>
            </div>
          </div>
          <div className="mx-auto max-w-6xl px-2 sm:px-4">
            <ConsoleNav role={caller.role} hasOrganization={organizations.length > 0} />
          </div>
        </header>
        {spendCap ? <SpendCapBanner cap={asJson<SpendCap>(spendCap)} showAmounts={can(caller.role, "billing.read")} /> : null}
        <main className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8 print:max-w-none print:p-0">{children}</main>
      </div>
    </RoleProvider>
  );
}
