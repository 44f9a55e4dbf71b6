import { COMPUTE_STATE_DISPLAY, isTransitional, type ComputeStateName, type StateTone } from "@/lib/compute-states";
import { cn } from "../ui/cn";

const TONES: Record<StateTone, string> = {
  green: "bg-emerald-50 text-emerald-800 ring-emerald-600/30",
  amber: "bg-amber-50 text-amber-800 ring-amber-600/30",
  blue: "bg-sky-50 text-sky-800 ring-sky-600/30",
  slate: "bg-slate-100 text-slate-700 ring-slate-500/30",
  red: "bg-red-50 text-red-800 ring-red-600/30",
};
const DOTS: Record<StateTone, string> = {
  green: "bg-emerald-500",
  amber: "bg-amber-500",
  blue: "bg-sky-500",
  slate: "bg-slate-400",
  red: "bg-red-500",
};

/**
 * A compute's state: the badge text is the state's name (lib/compute-states.ts). Its width is fixed to the
 * longest name, so a change of state never moves what is around it.
 */
export function StateBadge({ state, className }: { state: ComputeStateName | null; className?: string }) {
  const tone = state ? COMPUTE_STATE_DISPLAY[state].tone : "slate";
  return (
    <span
      data-testid="compute-state"
      data-state={state ?? "none"}
      title={state ? COMPUTE_STATE_DISPLAY[state].description : "No compute"}
      className={cn(
        "inline-flex w-[8.5rem] shrink-0 items-center justify-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset",
        TONES[tone],
        className,
      )}
    >
      <span aria-hidden="true" className={cn("size-1.5 rounded-full", DOTS[tone], state && isTransitional(state) && "animate-pulse")} />
      {state ?? "no compute"}
    </span>
  );
}
