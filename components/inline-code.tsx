import type { ReactNode } from "react";

/** A short piece of code in running text (paths, commands, identifiers). */
export function InlineCode({ children }: { children: ReactNode }) {
  return <code className="rounded bg-slate-200 px-1 font-mono text-[0.9em]">{children}</code>;
}
