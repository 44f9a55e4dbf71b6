import { AppError, isTenantFacing } from "../errors";

// What a failed operation's `error` says to the tenant. Drivers throw errors written for operators (host
// paths, pids, the server's error log); the tenant gets a cause it can act on. An error meant for the
// tenant says so by its class: an AppError, or a TenantFacingError such as the local driver's
// ComputeStartError. Everything else becomes a plain sentence, and the full error stays in the log that
// the caller writes.

export function operationErrorMessage(error: unknown, what: string): string {
  if (isTenantFacing(error) || error instanceof AppError) return error.message;
  return `${what} failed because of a problem on the platform's side; try again, and contact support if it keeps failing`;
}
