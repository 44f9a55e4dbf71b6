import { json } from "./http";
import { usageCsv, usageCsvFileName } from "@/server/usage/csv";
import type { bucketUsage } from "@/server/usage/usage";

/** A usage reply as JSON, or as a CSV download when the query asked for `format=csv`. */
export function usageReply(reply: ReturnType<typeof bucketUsage>, format: "json" | "csv", scope: string): Response {
  if (format === "json") return json(reply);
  return new Response(usageCsv(reply), {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${usageCsvFileName(scope, reply)}"`,
      "cache-control": "no-store",
    },
  });
}
