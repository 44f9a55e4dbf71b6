import { NextResponse } from "next/server";
import type { z } from "zod";
import { AppError, errorBody, retryAfterSeconds, toAppError, validationError } from "@/server/errors";
import { readLimitedText } from "./body";
import { logger } from "@/server/logger";

// The edge of the REST API: JSON in, JSON out, one error body for everything thrown.

export function json(data: unknown, status = 200): NextResponse {
  return NextResponse.json(data, { status, headers: { "cache-control": "no-store" } });
}

export function errorResponse(error: unknown): NextResponse {
  const appError = toAppError(error);
  if (appError.code === "internal") logger.error({ err: error instanceof Error ? error.stack : String(error) }, "request failed");
  const res = json(errorBody(appError), appError.status);
  const retryAfter = retryAfterSeconds(appError);
  if (retryAfter !== null) res.headers.set("retry-after", String(retryAfter));
  return res;
}

/**
 * The request's JSON body validated by schema. An empty body counts as `{}` (POSTs that take none); one
 * over HTTP_MAX_BODY_BYTES is refused with 413 before it is buffered.
 */
export async function readBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const text = await readLimitedText(req);
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      throw new AppError("bad_request", "the request body is not valid JSON");
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** Query parameters validated by schema. */
export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const params = Object.fromEntries(new URL(req.url).searchParams.entries());
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw validationError(parsed.error, "the query parameters are not valid");
  return parsed.data;
}
