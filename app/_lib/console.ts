import { redirect } from "next/navigation";
import { auth } from "./auth";
import { AppError } from "@/server/errors";
import { callerFromUser } from "@/server/tenancy/authenticate";
import type { Caller } from "@/server/tenancy/caller";

// For console pages (server components): the signed-in caller, read through server/ with the same tenancy
// as the REST API, or a redirect to sign-in.

export async function consoleCaller(): Promise<Caller & { email: string | null }> {
  const session = await auth();
  const userId = session?.user?.id;
  if (!userId) redirect("/login");
  let caller: Caller;
  try {
    caller = await callerFromUser(userId);
  } catch (error) {
    if (error instanceof AppError && error.code === "unauthenticated") redirect("/login");
    throw error;
  }
  return { ...caller, email: session.user?.email ?? null };
}

/** Whether the session is signed in (for pages anyone may see). */
export async function isSignedIn(): Promise<boolean> {
  return Boolean((await auth())?.user?.id);
}

/** Server data as the client receives it from the API: dates as ISO strings (one shape for both). */
export function asJson<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Whether an error is the tenancy's "not yours or missing" (a page answers it with notFound()). */
export function isNotFound(error: unknown): boolean {
  return error instanceof AppError && error.code === "not_found";
}

/** A `callbackUrl` that is a path of this site, else /projects: an open redirect would send a fresh session anywhere. */
export function safeCallback(raw: string | string[] | undefined): string {
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") ? value : "/projects";
}
