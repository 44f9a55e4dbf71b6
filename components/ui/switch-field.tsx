import { useId, type ReactNode } from "react";
import { cn } from "./cn";
import { FieldNotes } from "./field";

/** An on/off setting: a button with role="switch", its label and hint tied to it, the error beside it. */
export function SwitchField({
  label,
  hint,
  error,
  checked,
  onChange,
}: {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  const id = useId();
  return (
    <div className="space-y-1">
      <div className="flex items-center gap-3">
        <button
          type="button"
          role="switch"
          id={id}
          aria-checked={checked}
          aria-labelledby={`${id}-label`}
          aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}
          aria-invalid={error ? true : undefined}
          onClick={() => onChange(!checked)}
          className={cn(
            "relative inline-flex h-6 w-11 shrink-0 items-center rounded-full border-2 border-transparent transition-colors focus:outline-2 focus:outline-offset-2 focus:outline-indigo-600",
            checked ? "bg-indigo-600" : "bg-slate-400",
          )}
        >
          <span aria-hidden className={cn("inline-block size-5 rounded-full bg-white shadow transition-transform", checked ? "translate-x-5" : "translate-x-0")} />
        </button>
        <label id={`${id}-label`} htmlFor={id} className="text-sm font-medium text-slate-800">
          {label}
        </label>
      </div>
      <FieldNotes id={id} hint={hint} error={error} />
    </div>
  );
}
