import Link from "next/link";
import type { SpendCap } from "@/lib/api-types";
import { usd } from "@/lib/format";

/**
 * The console-wide warning when the organization's spend reaches 80 % or 100 % of its monthly cap (the
 * console layout renders it on every page). Amounts are shown to those who may read billing; everyone
 * else is told what it means for their computes.
 */
export function SpendCapBanner({ cap, showAmounts }: { cap: SpendCap; showAmounts: boolean }) {
  if (cap.threshold === null || cap.capUsd === null) return null;
  const reached = cap.threshold === 100;
  const amounts = showAmounts ? ` (${usd(cap.spentUsd)} of ${usd(cap.capUsd)})` : "";
  return (
    <div
      role={reached ? "alert" : "status"}
      data-testid="spend-cap-banner"
      className={`border-b print:hidden ${reached ? "border-red-200 bg-red-50 text-red-900" : "border-amber-200 bg-amber-50 text-amber-950"}`}
    >
      <p className="mx-auto max-w-6xl px-4 py-2 text-sm sm:px-6">
        <strong className="font-semibold">{reached ? "Spend cap reached" : `${cap.threshold} % of the spend cap used`}:</strong>{" "}
        {reached
          ? `this organization has spent its monthly cap${amounts}. Its computes are suspended and will not wake until the cap is raised or the month turns.`
          : `this organization has spent ${Math.floor((cap.share ?? 0) * 100)} % of its monthly cap${amounts}. At 100 % its computes are suspended until the cap is raised or the month turns.`}{" "}
        {showAmounts ? (
          <Link href="/billing#spend-cap" className="font-medium underline underline-offset-2">
            Change the cap
          </Link>
        ) : (
          "Ask an owner to raise it."
        )}
      </p>
    </div>
  );
}
