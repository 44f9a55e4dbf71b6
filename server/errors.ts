import { z } from "zod";

// One error contract for the API and the console (DESIGN.md, "Errors"): a code, its HTTP status, a message
// a person can act on, and optional details (field paths for validation).

export const ERROR_STATUS = {
  bad_request: 400,
  unauthenticated: 401,
  quota_exceeded: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  /** An invitation or password-reset link that has expired, was used already, or was revoked. */
  link_expired: 410,
  link_used: 410,
  link_revoked: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  path?: string;
  message: string;
  [key: string]: unknown;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: ErrorDetail[] };
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** A front-door limit: 429 with the wait in seconds, machine-readable in details (and Retry-After). */
export function rateLimited(message: string, retryAfterSeconds: number): AppError {
  return new AppError("rate_limited", message, [{ message: "retry after this many seconds", retryAfterSeconds }]);
}

/** The seconds a rate_limited error asks the client to wait, if it says. */
export function retryAfterSeconds(error: AppError): number | null {
  if (error.code !== "rate_limited") return null;
  const seconds = error.details.find((d) => typeof d.retryAfterSeconds === "number")?.retryAfterSeconds;
  return typeof seconds === "number" ? seconds : null;
}

const TENANT_FACING = Symbol.for("mariadb-serverless.tenant-facing-error");

/**
 * An error from below the API (a compute driver) whose message is written for the tenant: no host paths,
 * pids or logs. A failed operation shows it as is (server/compute/operation-error.ts). Recognised by a
 * brand from the global symbol registry, not by `instanceof`: Next.js bundles the route handlers and the
 * scheduler (instrumentation) separately, so the driver that threw may come from the other bundle's copy
 * of this class.
 */
export class TenantFacingError extends Error {
  readonly [TENANT_FACING] = true;
}

export function isTenantFacing(error: unknown): error is Error {
  return error instanceof Error && (error as unknown as Record<symbol, unknown>)[TENANT_FACING] === true;
}

export const notFound = (what: string) => new AppError("not_found", `${what} not found`);

/** zod issues as field-path details: `{ path: "suspendTimeoutSeconds", message: "..." }`. */
export function validationError(error: z.ZodError, message = "the request is not valid"): AppError {
  return new AppError(
    "validation",
    message,
    error.issues.map((issue) => ({ path: issue.path.join(".") || "(body)", message: issue.message })),
  );
}

function prismaCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string" && /^P\d{4}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * PostgreSQL's SQLSTATE behind an error: pg's own errors carry it as `code`; Prisma (through
 * @prisma/adapter-pg) wraps it as P2039/P2010 with `meta.driverAdapterError.cause.originalCode`.
 */
function postgresCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null;
  if (typeof e !== "object" || e === null) return undefined;
  const wrapped = e.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof wrapped === "string") return wrapped;
  return typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
}

/**
 * Text PostgreSQL cannot store: U+0000 in text (22021) or in JSON (22P05). The schemas refuse it with the
 * field's path (lib/schemas.ts, text()); this catches any string that reaches the database another way
 * (a path parameter, a header) so it is the client's 422, not a 500.
 */
const UNSTORABLE_TEXT = new Set(["22021", "22P05"]);

/** Anything thrown, as an AppError. Unknown errors become a 500 that leaks nothing. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof z.ZodError) return validationError(error);
  switch (prismaCode(error)) {
    case "P2025":
      return new AppError("not_found", "the resource was not found");
    case "P2002":
      return new AppError("conflict", "a resource with these values already exists");
  }
  if (UNSTORABLE_TEXT.has(postgresCode(error) ?? "")) {
    return new AppError("validation", "the request holds text that cannot be stored (a NUL character, \\u0000)", [
      { path: "(request)", message: "must not contain NUL characters (\\u0000)" },
    ]);
  }
  return new AppError("internal", "an internal error occurred; it has been logged");
}

export function errorBody(error: AppError): ErrorBody {
  return { error: { code: error.code, message: error.message, details: error.details } };
}
