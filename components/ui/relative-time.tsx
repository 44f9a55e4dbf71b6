"use client";

import { useSyncExternalStore } from "react";
import { exactTime, relativeTime } from "@/lib/format";
import { Tooltip } from "./tooltip";

// One clock for every relative time on the page, ticking every 5 s while anything shows one.
const TICK_MS = 5000;
let now = 0;

/** The clock's time, renewed when it is older than a tick (a first subscriber may come long after the last). */
function snapshot(): number {
  const t = Date.now();
  if (t - now >= TICK_MS) now = t;
  return now;
}
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void) {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** "3 minutes ago", kept current; the exact time on hover or focus (and in the <time> element). */
export function RelativeTime({ at, prefix }: { at: string | Date; prefix?: string }) {
  // On the server (and while hydrating) the text is the exact time, so both render the same thing.
  const clock = useSyncExternalStore(subscribe, snapshot, () => null);
  const iso = new Date(at).toISOString();
  // A time a little after the clock's last tick (data newer than the tick) reads as now, not as the future.
  const t = new Date(at).getTime();
  const reference = clock !== null && t > clock && t - clock < TICK_MS ? t : clock;
  const text = reference === null ? exactTime(at) : relativeTime(at, new Date(reference));
  return (
    <Tooltip content={exactTime(at)}>
      <time dateTime={iso} tabIndex={0} className="cursor-help underline decoration-slate-300 decoration-dotted underline-offset-2">
        {prefix ? `${prefix} ` : ""}
        {text}
      </time>
    </Tooltip>
  );
}
