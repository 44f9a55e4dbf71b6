"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, errorMessage } from "@/lib/api-client";
import type { Billing } from "@/lib/api-types";
import { bytes } from "@/lib/format";
import { can } from "@/lib/roles";
import { PLANS } from "@/lib/schemas";
import { keys } from "../data/keys";
import { inOrg, useBilling } from "../data/organizations";
import { useRole } from "../organizations/role-context";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { ErrorState } from "../ui/states";
import { useToast } from "../ui/toast";

// What each plan allows (server/quotas holds the figures the API enforces; the page shows the API's).
const PLAN_NOTES: Record<(typeof PLANS)[number], string> = {
  free: "100 CU-hours a month, 1 GiB per compute; computes go cold after at most an hour paused.",
  pro: "2,000 CU-hours a month, 50 GiB per compute; computes may stay warm.",
  enterprise: "No monthly compute limit, 1 TiB per compute.",
};

/**
 * The plan, its limits and this month's use (owners and admins); owners change the plan. There is no
 * payment provider: a change of plan takes effect at once and is recorded in the audit log.
 */
export function BillingView({ organizationId, initial }: { organizationId: string; initial: Billing }) {
  const role = useRole();
  const owner = can(role, "billing.write");
  const client = useQueryClient();
  const toast = useToast();
  const { data, error, refetch } = useBilling(organizationId, initial);
  const change = useMutation({
    mutationFn: (plan: string) => api<{ billing: Billing }>("PATCH", inOrg("/api/v1/billing", organizationId), { plan }),
    onSuccess: ({ billing }) => {
      client.setQueryData(keys.billing(organizationId), billing);
      toast(`Plan changed to ${billing.plan}`, { description: "The new limits apply at once." });
    },
  });
  if (!data) return <ErrorState message={`Could not load billing: ${errorMessage(error)}`} onRetry={() => void refetch()} />;
  const limit = data.limits.cuHoursPerMonth;
  const used = data.usage.cuHoursThisMonth;
  const share = limit ? Math.min(100, (used / limit) * 100) : 0;
  return (
    <div className="space-y-6">
      {error ? <ErrorState message={`Could not refresh billing: ${errorMessage(error)}. What you see may be out of date.`} onRetry={() => void refetch()} /> : null}
      <Card title="This month">
        <dl className="grid gap-4 sm:grid-cols-3">
          <div>
            <dt className="text-xs font-medium text-slate-600 uppercase">Plan</dt>
            <dd className="mt-1 text-lg font-semibold text-slate-900 capitalize" data-testid="billing-plan">
              {data.plan}
            </dd>
          </div>
          <div>
            <dt className="text-xs font-medium text-slate-600 uppercase">Compute used</dt>
            <dd className="mt-1 text-lg font-semibold text-slate-900">
              {used.toFixed(2)} <span className="text-sm font-normal text-slate-700">of {limit === null ? "unlimited" : `${limit.toLocaleString("en-US")}`} CU-hours</span>
            </dd>
          </div>
          <div>
            <dt className="text-xs font-medium text-slate-600 uppercase">Storage per compute</dt>
            <dd className="mt-1 text-lg font-semibold text-slate-900">{bytes(data.limits.storageBytesPerCompute)}</dd>
          </div>
        </dl>
        {limit !== null ? (
          <div className="mt-4">
            <div
              className="h-2 w-full overflow-hidden rounded bg-slate-100"
              role="progressbar"
              aria-label="Compute used this month"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={Math.round(share)}
            >
              <div className={`h-full ${share >= 90 ? "bg-red-600" : "bg-indigo-600"}`} style={{ width: `${share}%` }} />
            </div>
            <p className="mt-1 text-xs text-slate-600">
              A CU-hour is one compute unit running for an hour; paused and suspended computes use none. Over the limit, computes cannot be started or woken until the next month or a larger plan.
            </p>
          </div>
        ) : null}
      </Card>

      <Card title="Plans" description={owner ? "There is no payment provider here: a change applies at once and is recorded in the audit log." : "Only owners change the plan."}>
        <ul className="grid gap-3 sm:grid-cols-3" aria-label="Plans">
          {PLANS.map((plan) => {
            const current = plan === data.plan;
            const up = PLANS.indexOf(plan) > PLANS.indexOf(data.plan as (typeof PLANS)[number]);
            return (
              <li key={plan} className={`flex flex-col justify-between gap-3 rounded-md border p-3 ${current ? "border-indigo-500 bg-indigo-50" : "border-slate-200"}`}>
                <div>
                  <p className="font-semibold text-slate-900 capitalize">
                    {plan} {current ? <span className="ml-1 text-xs font-medium text-indigo-800 normal-case">(current)</span> : null}
                  </p>
                  <p className="mt-1 text-sm text-slate-700">{PLAN_NOTES[plan]}</p>
                </div>
                {owner && !current ? (
                  <ConfirmDialog
                    trigger={
                      <Button size="sm" variant={up ? "primary" : "secondary"}>
                        {up ? "Upgrade" : "Downgrade"} to {plan}
                      </Button>
                    }
                    title={`${up ? "Upgrade" : "Downgrade"} to ${plan}?`}
                    description={`${PLAN_NOTES[plan]} The change applies at once.`}
                    confirmLabel={`Switch to ${plan}`}
                    destructive={!up}
                    onConfirm={() => change.mutateAsync(plan)}
                  />
                ) : null}
              </li>
            );
          })}
        </ul>
      </Card>
    </div>
  );
}
