import Link from "next/link";
import type { ComponentProps } from "react";
import { cn } from "./cn";

/** A link that looks like the primary button. */
export function LinkButton({ className, ...rest }: ComponentProps<typeof Link>) {
  return (
    <Link
      className={cn(
        "inline-flex h-10 items-center justify-center rounded-md bg-indigo-600 px-4 text-sm font-medium text-white hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600",
        className,
      )}
      {...rest}
    />
  );
}
