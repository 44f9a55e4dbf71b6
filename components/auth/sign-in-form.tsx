"use client";

import { useRouter } from "next/navigation";
import { signIn } from "next-auth/react";
import { useState } from "react";
import { parseRateLimitedSignInCode, signInRetryMessage } from "@/lib/rate-limit";
import { Button } from "../ui/button";
import { FormError, InputField } from "../ui/field";

/** Email and password through Auth.js's credentials provider; errors next to the field, what was typed kept. */
export function SignInForm({ callbackUrl, initialError }: { callbackUrl: string; initialError?: string | null }) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [fieldError, setFieldError] = useState<{ email?: string; password?: string }>({});
  const [formError, setFormError] = useState<string | null>(initialError ?? null);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setFieldError({});
    setFormError(null);
    if (!email.includes("@")) return setFieldError({ email: "Enter the email address you signed up with." });
    if (!password) return setFieldError({ password: "Enter your password." });
    setBusy(true);
    try {
      const result = await signIn("credentials", { email, password, redirect: false });
      if (result?.error) {
        const wait = parseRateLimitedSignInCode(result.code);
        if (wait !== null) setFormError(signInRetryMessage(wait));
        else setFieldError({ password: "Wrong email or password." });
        return;
      }
      router.push(callbackUrl);
      router.refresh();
    } catch {
      setFormError("Could not reach the server; check your connection and try again.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="space-y-4" noValidate>
      <FormError>{formError}</FormError>
      <InputField label="Email" type="email" name="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} error={fieldError.email} required />
      <InputField
        label="Password"
        type="password"
        name="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={fieldError.password}
        required
      />
      <Button type="submit" loading={busy} className="w-full">
        Sign in
      </Button>
    </form>
  );
}

