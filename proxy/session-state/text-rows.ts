import { BufferReader } from "../protocol/buffer-reader";
import type { TextRow } from "./park-capture";

// The rows of a text-protocol result set the proxy ran itself (parking's capture query), from its
// packets' payloads: column count, column definitions, [EOF], rows, terminator.

export function textRowsOf(payloads: Buffer[], deprecateEof: boolean): TextRow[] {
  const columns = new BufferReader(payloads[0]!).lenenc();
  const rows = payloads.slice(1 + columns + (deprecateEof ? 0 : 1), -1);
  return rows.map((payload) => {
    const r = new BufferReader(payload);
    const row: TextRow = [];
    for (let i = 0; i < columns; i++) {
      if (payload[payload.length - r.remaining] === 0xfb) {
        r.skip(1);
        row.push(null);
      } else row.push(r.lenencBytes().toString("utf8"));
    }
    return row;
  });
}
