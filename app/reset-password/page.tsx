import Link from "next/link";
import { ResetPasswordForm } from "@/components/account/password-forms";
import { AuthCard } from "@/components/auth/auth-card";

export const dynamic = "force-dynamic";
export const metadata = { title: "Reset password · MariaDB Serverless" };

/** The page of an operator's one-time reset link (`npm run admin -- reset-password <email>`). */
export default async function ResetPasswordPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = (await searchParams).token;
  const token = Array.isArray(raw) ? raw[0] : raw;
  const footer = (
    <Link href="/login" className="font-medium text-indigo-700 underline">
      Back to sign in
    </Link>
  );
  if (!token) {
    return (
      <AuthCard title="Reset your password" footer={footer}>
        <p className="text-sm text-slate-700">
          This page needs the one-time link an operator gives you. There is no mail server: ask an operator to run{" "}
          <code className="font-mono text-xs">npm run admin -- reset-password &lt;your email&gt;</code>.
        </p>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Choose a new password" footer={footer}>
      <ResetPasswordForm token={token} />
    </AuthCard>
  );
}
