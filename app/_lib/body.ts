import { config } from "@/server/config";
import { AppError } from "@/server/errors";

// Request bodies are read through here, never with req.text() or req.json() directly: a body over
// HTTP_MAX_BODY_BYTES is refused with 413 as soon as its Content-Length says so, or (chunked, or lying)
// as soon as the bytes read pass the cap, so no request makes the app buffer more than the cap.

const tooLarge = (maxBytes: number) =>
  new AppError("payload_too_large", `the request body is larger than ${maxBytes} bytes, the most this API accepts`);

export async function readLimitedText(req: Request, maxBytes = config().HTTP_MAX_BODY_BYTES): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    // Not cancelled: that would destroy the socket before the 413 is sent. The rest of the body stays
    // unread (the socket pauses once Node's small buffers are full) while the client reads the 413.
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
