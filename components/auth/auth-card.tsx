import Link from "next/link";
import type { ReactNode } from "react";

/** The frame of the sign-in and sign-up pages. */
export function AuthCard({ title, children, footer }: { title: string; children: ReactNode; footer: ReactNode }) {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center px-4 py-10">
      <Link href="/" className="mb-6 text-lg font-semibold text-slate-900">
        MariaDB Serverless
      </Link>
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h1 className="text-xl font-semibold text-slate-900">{title}</h1>
        <div className="mt-5">{children}</div>
      </div>
      <p className="mt-4 text-sm text-slate-700">{footer}</p>
    </main>
  );
}
