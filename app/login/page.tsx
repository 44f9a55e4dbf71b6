import Link from "next/link";
import { redirect } from "next/navigation";
import { isSignedIn, safeCallback } from "@/app/_lib/console";
import { signIn } from "@/app/_lib/auth";
import { AuthCard } from "@/components/auth/auth-card";
import { SignInForm } from "@/components/auth/sign-in-form";
import { Button } from "@/components/ui/button";
import { parseRateLimitedSignInCode, signInRetryMessage } from "@/lib/rate-limit";
import { githubSignInEnabled } from "@/server/tenancy/github-user";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in · MariaDB Serverless" };

/** Errors Auth.js redirects here with (a refused form sign-in is handled in the form itself). */
function redirectError(error: string | undefined, code: string | undefined): string | null {
  if (!error) return null;
  const wait = parseRateLimitedSignInCode(code);
  if (wait !== null) return signInRetryMessage(wait);
  if (error === "CredentialsSignin") return "Wrong email or password.";
  return "GitHub sign-in did not work. If you signed up with a password, sign in with it below.";
}

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const callbackUrl = safeCallback(params.callbackUrl);
  if (await isSignedIn()) redirect(callbackUrl);
  const one = (k: string) => (Array.isArray(params[k]) ? params[k][0] : params[k]);
  return (
    <AuthCard
      title="Sign in"
      footer={
        <>
          New here?{" "}
          <Link href={callbackUrl === "/projects" ? "/signup" : `/signup?callbackUrl=${encodeURIComponent(callbackUrl)}`} className="font-medium text-indigo-700 underline">
            Sign up
          </Link>
        </>
      }
    >
      <SignInForm callbackUrl={callbackUrl} initialError={redirectError(one("error"), one("code"))} />
      {githubSignInEnabled() ? (
        <form
          className="mt-4 border-t border-slate-100 pt-4"
          action={async () => {
            "use server";
            await signIn("github", { redirectTo: callbackUrl });
          }}
        >
          <Button type="submit" variant="secondary" className="w-full">
            Sign in with GitHub
          </Button>
        </form>
      ) : null}
    </AuthCard>
  );
}
