"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api, errorMessage, fieldErrors } from "@/lib/api-client";
import type { Billing, BillingSpend } from "@/lib/api-types";
import { usd } from "@/lib/format";
import { can } from "@/lib/roles";
import { SpendCapSchema } from "@/lib/schemas";
import { keys } from "../data/keys";
import { inOrg, useBilling } from "../data/organizations";
import { useRole } from "../organizations/role-context";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { InputField } from "../ui/field";
import { useToast } from "../ui/toast";

type BillingWithSpend = Billing & BillingSpend;

/**
 * The monthly spend cap (PATCH /api/v1/billing {spendCapUsd}): the month's spend against it, and for
 * owners a form to set, change or remove it. The console-wide banner follows at once (router.refresh).
 */
export function SpendCapForm({ organizationId, initial }: { organizationId: string; initial: BillingWithSpend }) {
  const owner = can(useRole(), "billing.write");
  const client = useQueryClient();
  const router = useRouter();
  const toast = useToast();
  const { data } = useBilling(organizationId, initial);
  const billing = (data ?? initial) as BillingWithSpend;
  const cap = billing.spendCap;
  const [value, setValue] = useState(cap.capUsd === null ? "" : String(cap.capUsd));
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (spendCapUsd: number | null) => api<{ billing: BillingWithSpend }>("PATCH", inOrg("/api/v1/billing", organizationId), { spendCapUsd }),
    onSuccess: ({ billing: next }) => {
      client.setQueryData(keys.billing(organizationId), next);
      setValue(next.spendCap.capUsd === null ? "" : String(next.spendCap.capUsd));
      toast(next.spendCap.capUsd === null ? "Spend cap removed" : `Spend cap set to ${usd(next.spendCap.capUsd)}`, { description: "It applies at once." });
      router.refresh();
    },
    onError: (e) => setError(fieldErrors(e).spendCapUsd ?? errorMessage(e)),
  });
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    const amount = value.trim() === "" ? null : Number(value);
    const parsed = SpendCapSchema.safeParse(amount !== null && Number.isNaN(amount) ? value : amount);
    if (!parsed.success) return setError(`The cap ${parsed.error.issues[0]?.message ?? "is not valid"}.`);
    save.mutate(parsed.data);
  };
  const share = cap.share === null ? null : Math.min(100, cap.share * 100);
  return (
    <Card
      id="spend-cap"
      title="Spend cap"
      description="A monthly limit on what this organization spends. At 80 % every console page warns; at 100 % its computes are suspended until the cap is raised or the month turns."
    >
      <p className="text-sm text-slate-800" data-testid="spend-against-cap">
        Spent this month: <strong>{usd(billing.spendToDateUsd)}</strong>
        {cap.capUsd !== null ? ` of a ${usd(cap.capUsd)} cap` : " (no cap)"}; estimate for the month {usd(billing.estimateUsd)}.
      </p>
      {share !== null ? (
        <div
          className="mt-2 h-2 w-full overflow-hidden rounded bg-slate-100"
          role="progressbar"
          aria-label="Spend against the cap"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(share)}
        >
          <div className={`h-full ${share >= 100 ? "bg-red-600" : share >= 80 ? "bg-amber-500" : "bg-indigo-600"}`} style={{ width: `${share}%` }} />
        </div>
      ) : null}
      {owner ? (
        <form onSubmit={submit} noValidate className="mt-4 flex flex-wrap items-end gap-3" aria-label="Spend cap">
          <div className="w-full sm:w-56">
            <InputField
              label="Monthly spend cap (USD)"
              inputMode="decimal"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              placeholder="No cap"
              hint="Empty for no cap."
              error={error}
            />
          </div>
          <Button type="submit" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save cap"}
          </Button>
          {cap.capUsd !== null ? (
            <Button type="button" variant="secondary" disabled={save.isPending} onClick={() => save.mutate(null)}>
              Remove cap
            </Button>
          ) : null}
        </form>
      ) : (
        <p className="mt-3 text-sm text-slate-600">Only owners change the cap.</p>
      )}
    </Card>
  );
}
