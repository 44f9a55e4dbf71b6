import type { bucketUsage } from "./usage";

// The usage reply as CSV, one row per bucket (UTC), for spreadsheets and accounting tools: the same
// figures as the JSON reply, plus CU-hours for people.

type UsageReply = ReturnType<typeof bucketUsage>;

export const USAGE_CSV_HEADER = "start,computeSeconds,cuSeconds,cuHours,storageBytes,bytesIn,bytesOut";

export function usageCsv(reply: UsageReply): string {
  const rows = reply.usage.map((b) =>
    [b.start, b.computeSeconds, b.cuSeconds, Math.round((b.cuSeconds / 3600) * 1e6) / 1e6, b.storageBytes ?? "", b.bytesIn, b.bytesOut].join(","),
  );
  return [USAGE_CSV_HEADER, ...rows].join("\r\n") + "\r\n";
}

/** A file name that says what and when: usage-<scope>-<from>-<to>.csv (colons are trouble in file names). */
export function usageCsvFileName(scope: string, reply: UsageReply): string {
  const day = (iso: string) => iso.replace(/:/g, "").replace(/\.\d+Z$/, "Z");
  return `usage-${scope}-${day(reply.from)}-${day(reply.to)}.csv`;
}
