"use client";

import { ErrorState } from "@/components/ui/states";

export default function ConsoleError({ reset }: { error: Error; reset: () => void }) {
  return <ErrorState message="This page could not be loaded." onRetry={reset} />;
}
