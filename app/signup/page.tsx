import Link from "next/link";
import { redirect } from "next/navigation";
import { isSignedIn, safeCallback } from "@/app/_lib/console";
import { AuthCard } from "@/components/auth/auth-card";
import { SignUpForm } from "@/components/auth/sign-up-form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign up · MariaDB Serverless" };

export default async function SignUpPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const callbackUrl = safeCallback(params.callbackUrl);
  if (await isSignedIn()) redirect(callbackUrl);
  // From an invitation's page: the invited email filled in, and back to the invitation afterwards.
  const email = typeof params.email === "string" ? params.email.slice(0, 254) : "";
  return (
    <AuthCard
      title="Create your account"
      footer={
        <>
          Already have an account?{" "}
          <Link href={callbackUrl === "/projects" ? "/login" : `/login?callbackUrl=${encodeURIComponent(callbackUrl)}`} className="font-medium text-indigo-700 underline">
            Sign in
          </Link>
        </>
      }
    >
      <SignUpForm callbackUrl={callbackUrl} initialEmail={email} />
    </AuthCard>
  );
}
