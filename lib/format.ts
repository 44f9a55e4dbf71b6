// Formatting for the console, shared by server and client components so both render the same text.

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "3 minutes ago", "in 5 minutes", "now". */
export function relativeTime(at: Date | string, now: Date = new Date()): string {
  const seconds = Math.round((new Date(at).getTime() - now.getTime()) / 1000);
  if (Math.abs(seconds) < 5) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") return rtf.format(Math.trunc(seconds / size), unit);
  }
  return "just now";
}

/** The exact instant, unambiguous: "2026-11-27 14:03:12 UTC". */
export function exactTime(at: Date | string): string {
  return new Date(at).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** A duration in a person's units: "850 ms", "2.4 s", "3 min 5 s", "2 h 10 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return seconds(Math.round(ms / 1000));
}

/** A number of seconds as "45 s", "5 min", "1 h 30 min", "2 d". */
export function seconds(total: number): string {
  if (total < 60) return `${total} s`;
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts: string[] = [];
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m && !d) parts.push(`${m} min`);
  if (s && !h && !d) parts.push(`${s} s`);
  return parts.slice(0, 2).join(" ");
}

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 10 || i === 0 ? 0 : 1)} ${units[i]}`;
}

/** An operation's actor ("user:…", "api_key:…", "proxy", "scheduler") as a person reads it. */
export function actorLabel(actor: string, self?: { userId?: string | null }): string {
  if (self?.userId && actor === `user:${self.userId}`) return "you";
  if (actor.startsWith("user:")) return "a member";
  if (actor.startsWith("api_key:")) return `API key ${actor.slice("api_key:".length, "api_key:".length + 8)}…`;
  return actor;
}

/** "resume_compute" -> "Resume compute". */
export function operationKindLabel(kind: string): string {
  const words = kind.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** 20.6 -> "$20.60". */
export function usd(n: number): string {
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A month's first instant -> "November 2026" (UTC). */
export function monthName(at: string | Date): string {
  return new Date(at).toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
}
