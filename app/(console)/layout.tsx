import Link from "next/link";
import type { ReactNode } from "react";
import { consoleCaller } from "@/app/_lib/console";
import { signOut } from "@/app/_lib/auth";
import { ConsoleNav } from "@/components/layout/console-nav";
import { Button } from "@/components/ui/button";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const caller = await consoleCaller();
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl items-center justify-between gap-3 px-4 pt-3 sm:px-6">
          <Link href="/projects" className="font-semibold text-slate-900">
            MariaDB Serverless
          </Link>
          <div className="flex min-w-0 items-center gap-2">
            <span className="hidden truncate text-sm text-slate-600 sm:inline" data-testid="signed-in-as">
              {caller.email}
            </span>
            <form
              action={async () => {
                "use server";
                await signOut({ redirectTo: "/" });
              }}
            >
              <Button type="submit" variant="ghost" size="sm">
                Sign out
              </Button>
            </form>
          </div>
        </div>
        <div className="mx-auto max-w-6xl px-2 sm:px-4">
          <ConsoleNav />
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6 sm:px-6 sm:py-8">{children}</main>
    </div>
  );
}
