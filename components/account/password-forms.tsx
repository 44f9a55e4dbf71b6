"use client";

import Link from "next/link";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { api, ApiError, errorMessage, fieldErrors } from "@/lib/api-client";
import { retryMessage } from "@/lib/rate-limit";
import { PasswordChangeSchema, PasswordResetSchema } from "@/lib/schemas";
import { Button } from "../ui/button";
import { FormError, InputField } from "../ui/field";
import { useToast } from "../ui/toast";

/** "must be at least 8 characters" -> "New password must be at least 8 characters." */
const sentence = (label: string, message: string) => `${label} ${message.replace(/\.$/, "")}.`;

function formMessage(error: unknown, what: string): string {
  if (error instanceof ApiError && error.retryAfterSeconds !== null) return retryMessage(what, error.retryAfterSeconds);
  const m = errorMessage(error);
  return m.charAt(0).toUpperCase() + m.slice(1);
}

/** The signed-in user's password change (POST /api/v1/account/password): the current one, then a new one twice. */
export function ChangePasswordForm() {
  const toast = useToast();
  const [values, setValues] = useState({ currentPassword: "", newPassword: "", confirm: "" });
  const [errors, setErrors] = useState<{ currentPassword?: string; newPassword?: string; confirm?: string; form?: string }>({});
  const set = (k: keyof typeof values) => (e: React.ChangeEvent<HTMLInputElement>) => setValues((v) => ({ ...v, [k]: e.target.value }));
  const change = useMutation({
    mutationFn: (input: { currentPassword: string; newPassword: string }) => api("POST", "/api/v1/account/password", input),
    onSuccess: () => {
      setValues({ currentPassword: "", newPassword: "", confirm: "" });
      toast("Password changed", { description: "Use the new one next time you sign in." });
    },
    onError: (e) => {
      const f = fieldErrors(e);
      if (f.currentPassword || f.newPassword) {
        setErrors({
          currentPassword: f.currentPassword && sentence("Current password", f.currentPassword),
          newPassword: f.newPassword && sentence("New password", f.newPassword),
        });
      } else setErrors({ form: formMessage(e, "Too many wrong passwords") });
    },
  });
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setErrors({});
    const parsed = PasswordChangeSchema.safeParse({ currentPassword: values.currentPassword, newPassword: values.newPassword });
    if (!parsed.success) {
      const next: typeof errors = {};
      for (const issue of parsed.error.issues) {
        const k = issue.path[0] as "currentPassword" | "newPassword";
        next[k] ??= sentence(k === "currentPassword" ? "Current password" : "New password", issue.message);
      }
      return setErrors(next);
    }
    if (values.confirm !== values.newPassword) return setErrors({ confirm: "The two new passwords are not the same." });
    change.mutate(parsed.data);
  };
  return (
    <form onSubmit={submit} noValidate className="max-w-sm space-y-4" aria-label="Change password">
      <FormError>{errors.form}</FormError>
      <InputField label="Current password" type="password" autoComplete="current-password" value={values.currentPassword} onChange={set("currentPassword")} error={errors.currentPassword} />
      <InputField label="New password" type="password" autoComplete="new-password" value={values.newPassword} onChange={set("newPassword")} error={errors.newPassword} hint="At least 8 characters." />
      <InputField label="New password again" type="password" autoComplete="new-password" value={values.confirm} onChange={set("confirm")} error={errors.confirm} />
      <Button type="submit" loading={change.isPending}>
        Change password
      </Button>
    </form>
  );
}

/** A new password with a one-time reset link's token (POST /api/v1/account/password-reset; no session needed). */
export function ResetPasswordForm({ token }: { token: string }) {
  const [values, setValues] = useState({ newPassword: "", confirm: "" });
  const [errors, setErrors] = useState<{ newPassword?: string; confirm?: string; form?: string }>({});
  const [done, setDone] = useState(false);
  const reset = useMutation({
    mutationFn: (input: { token: string; newPassword: string }) => api("POST", "/api/v1/account/password-reset", input),
    onSuccess: () => setDone(true),
    onError: (e) => {
      const f = fieldErrors(e);
      if (f.newPassword) setErrors({ newPassword: sentence("New password", f.newPassword) });
      else setErrors({ form: formMessage(e, "Too many invalid reset links from your address") });
    },
  });
  if (done) {
    return (
      <div className="space-y-4" role="status">
        <p className="text-sm text-slate-700">Your password is changed. Sign in with the new one.</p>
        <Link href="/login" className="inline-flex h-10 items-center rounded-md bg-indigo-600 px-4 text-sm font-medium text-white hover:bg-indigo-700">
          Sign in
        </Link>
      </div>
    );
  }
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setErrors({});
    const parsed = PasswordResetSchema.safeParse({ token, newPassword: values.newPassword });
    if (!parsed.success) return setErrors({ newPassword: sentence("New password", parsed.error.issues[0]?.message ?? "is not valid") });
    if (values.confirm !== values.newPassword) return setErrors({ confirm: "The two passwords are not the same." });
    reset.mutate(parsed.data);
  };
  return (
    <form onSubmit={submit} noValidate className="space-y-4" aria-label="Set a new password">
      <FormError>{errors.form}</FormError>
      <InputField label="New password" type="password" autoComplete="new-password" value={values.newPassword} onChange={(e) => setValues((v) => ({ ...v, newPassword: e.target.value }))} error={errors.newPassword} hint="At least 8 characters." />
      <InputField label="New password again" type="password" autoComplete="new-password" value={values.confirm} onChange={(e) => setValues((v) => ({ ...v, confirm: e.target.value }))} error={errors.confirm} />
      <Button type="submit" loading={reset.isPending} className="w-full">
        Set new password
      </Button>
    </form>
  );
}
