import Link from "next/link";
import { redirect } from "next/navigation";
import { isSignedIn } from "@/app/_lib/console";
import { AuthCard } from "@/components/auth/auth-card";
import { SignUpForm } from "@/components/auth/sign-up-form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign up · MariaDB Serverless" };

export default async function SignUpPage() {
  if (await isSignedIn()) redirect("/projects");
  return (
    <AuthCard
      title="Create your account"
      footer={
        <>
          Already have an account?{" "}
          <Link href="/login" className="font-medium text-indigo-700 underline">
            Sign in
          </Link>
        </>
      }
    >
      <SignUpForm />
    </AuthCard>
  );
}
