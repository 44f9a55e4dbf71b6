"use client";

import { useRouter } from "next/navigation";
import { signIn } from "next-auth/react";
import { useState } from "react";
import { api, ApiError, errorMessage, fieldErrors } from "@/lib/api-client";
import { retryMessage } from "@/lib/rate-limit";
import { SignupSchema } from "@/lib/schemas";
import { Button } from "../ui/button";
import { FormError, InputField } from "../ui/field";

type Fields = "email" | "password" | "organization";

/** Self-service sign-up (POST /api/v1/signup), then sign-in; the shared zod schema checks the fields first. */
export function SignUpForm({ callbackUrl = "/projects", initialEmail = "" }: { callbackUrl?: string; initialEmail?: string }) {
  const router = useRouter();
  const [values, setValues] = useState({ email: initialEmail, password: "", organization: "" });
  const [errors, setErrors] = useState<Partial<Record<Fields, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: Fields) => (e: React.ChangeEvent<HTMLInputElement>) => setValues((v) => ({ ...v, [k]: e.target.value }));

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFormError(null);
    const input = { email: values.email, password: values.password, ...(values.organization.trim() ? { organization: values.organization } : {}) };
    const parsed = SignupSchema.safeParse(input);
    if (!parsed.success) {
      const next: Partial<Record<Fields, string>> = {};
      for (const issue of parsed.error.issues) next[issue.path[0] as Fields] ??= sentence(issue.path[0] as Fields, issue.message);
      return setErrors(next);
    }
    setBusy(true);
    try {
      await api("POST", "/api/v1/signup", parsed.data);
      const result = await signIn("credentials", { email: parsed.data.email, password: parsed.data.password, redirect: false });
      if (result?.error) {
        setFormError("Your account was created, but signing in failed. Sign in with your new password.");
        return;
      }
      router.push(callbackUrl);
      router.refresh();
    } catch (error) {
      if (error instanceof ApiError && error.code === "conflict") {
        setErrors({ email: "An account with this email already exists. Sign in instead." });
      } else if (error instanceof ApiError && error.code === "validation") {
        const byPath = fieldErrors(error);
        setErrors(Object.fromEntries(Object.entries(byPath).map(([k, m]) => [k, sentence(k as Fields, m)])));
      } else if (error instanceof ApiError && error.retryAfterSeconds !== null) {
        setFormError(retryMessage("Too many sign-up attempts from your address", error.retryAfterSeconds));
      } else {
        setFormError(errorMessage(error));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="space-y-4" noValidate>
      <FormError>{formError}</FormError>
      <InputField label="Email" type="email" name="email" autoComplete="email" value={values.email} onChange={set("email")} error={errors.email} required />
      <InputField
        label="Password"
        type="password"
        name="password"
        autoComplete="new-password"
        value={values.password}
        onChange={set("password")}
        error={errors.password}
        hint="At least 8 characters."
        required
      />
      <InputField
        label="Organization"
        name="organization"
        autoComplete="organization"
        value={values.organization}
        onChange={set("organization")}
        error={errors.organization}
        optional
        hint="Your team or company; you can leave it empty."
      />
      <Button type="submit" loading={busy} className="w-full">
        Sign up
      </Button>
    </form>
  );
}

const LABELS: Record<Fields, string> = { email: "Email", password: "Password", organization: "Organization" };

/** "must be at least 8 characters" -> "Password must be at least 8 characters." */
function sentence(field: Fields, message: string): string {
  const label = LABELS[field] ?? "This field";
  return `${label} ${message.replace(/\.$/, "")}.`;
}
