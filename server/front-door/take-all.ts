import { rateLimited } from "../errors";
import { retryMessage } from "@/lib/rate-limit";
import { take, waitSeconds, type Limit } from "./limits";

/**
 * Count one attempt under every limit, or throw 429 (`rate_limited`, with the wait) when any is backed
 * off. Attempts are counted before the work they guard (a password check, a sign-up), so a burst of
 * parallel requests cannot all pass before the first is counted; a success is refunded afterwards.
 */
export async function takeAll(limits: Limit[], what: string): Promise<void> {
  let wait = await waitSeconds(limits.map((l) => l.key));
  for (const limit of limits) {
    if (wait > 0) break;
    wait = await take(limit);
  }
  if (wait > 0) throw rateLimited(retryMessage(what, wait), wait);
}
