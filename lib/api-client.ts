// The console's HTTP client for the REST API (/api/v1): JSON in, JSON out, and the one error body
// (`{"error": {"code", "message", "details"}}`) turned into an ApiError that forms read field errors from.

export interface ApiErrorDetail {
  path?: string;
  message: string;
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ApiErrorDetail[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The seconds a 429 asks to wait, when it says. */
  get retryAfterSeconds(): number | null {
    const d = this.details.find((x) => typeof x.retryAfterSeconds === "number");
    return d?.retryAfterSeconds ?? null;
  }
}

/** Field path -> message for a 422 (the first message per path), e.g. `{"access.allowedCidrs.1": "must be ..."}`. */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError) || error.code !== "validation") return out;
  for (const d of error.details) if (d.path && !(d.path in out)) out[d.path] = d.message;
  return out;
}

/** A sentence for a person: the server's message, or a network failure said plainly. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "Could not reach the server; check your connection and try again.";
  return error instanceof Error ? error.message : "Something went wrong.";
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string; details?: ApiErrorDetail[] } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? "internal", err?.message ?? `the server answered ${res.status}`, err?.details ?? []);
  }
  return parsed as T;
}
