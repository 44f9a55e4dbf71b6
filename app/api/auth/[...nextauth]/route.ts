// GET/POST /api/auth/* - Auth.js endpoints (csrf, sign-in with credentials, session, sign-out)
import { NextRequest } from "next/server";
import { handlers } from "@/app/_lib/auth";
import { readLimitedText } from "@/app/_lib/body";
import { errorResponse } from "@/app/_lib/http";

export const { GET } = handlers;

// Auth.js buffers the whole body (formData or json) before it looks at it: read it here first, under the
// same cap as every other body, and hand Auth.js a copy.
export async function POST(req: NextRequest): Promise<Response> {
  let body: string;
  try {
    body = await readLimitedText(req);
  } catch (error) {
    return errorResponse(error);
  }
  const headers = new Headers(req.headers);
  headers.delete("content-length");
  headers.delete("transfer-encoding");
  return handlers.POST(new NextRequest(req.url, { method: "POST", headers, body }));
}
