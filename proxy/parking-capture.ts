import type { ComputeExchange } from "./compute-exchange";
import { queryPayload } from "./followed-compute";
import { CAPTURE_SQL, CaptureError, readCapture, readValues, valuesSql, type ParkCapture } from "./session-state/park-capture";
import { textRowsOf } from "./session-state/text-rows";

// What parking reads on the session's own compute connection before closing it (park-capture.ts says
// what and why): one query, and a second when the session has user variables. The replies go through the
// follower (their OK/EOF refresh the status flags the pins read) and not to the client.

export async function captureForParking(exchange: ComputeExchange, deprecateEof: boolean): Promise<ParkCapture> {
  const first = await exchange.run(queryPayload(CAPTURE_SQL));
  if (first.reply.error) throw new CaptureError(`the capture query failed: ${first.reply.error.message}`);
  const read = readCapture(textRowsOf(first.payloads, deprecateEof));
  let userVariables: ParkCapture["userVariables"] = [];
  if (read.variables.length > 0) {
    const values = await exchange.run(queryPayload(valuesSql(read.variables)));
    if (values.reply.error) throw new CaptureError(`reading the user variables failed: ${values.reply.error.message}`);
    const row = textRowsOf(values.payloads, deprecateEof)[0];
    if (!row) throw new CaptureError("reading the user variables returned no row");
    userVariables = readValues(read.variables, row);
  }
  return { userVariables, lastInsertId: read.lastInsertId, inTransaction: read.inTransaction, collationConnection: read.collationConnection };
}
