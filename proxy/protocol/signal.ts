import { Command } from "./constants";

// An error the proxy answers itself, sent the way the compute would answer it: as a SIGNAL statement the
// compute runs, so the error reaches the client in its place among the replies to commands the client
// pipelined before it (a reply written by the proxy directly could overtake them). SIGNAL neither ends a
// transaction nor changes the session. The text goes as a hex literal: nothing in it can be read as SQL,
// whatever the session's sql_mode.

export interface ProxyError {
  code: number;
  sqlState: string;
  message: string;
}

/** The COM_QUERY payload that makes the compute answer with this error. */
export function signalQuery(error: ProxyError): Buffer {
  if (!/^[0-9A-Z]{5}$/.test(error.sqlState) || error.sqlState.startsWith("00")) throw new RangeError(`invalid SQLSTATE ${error.sqlState}`);
  if (!Number.isInteger(error.code) || error.code < 1 || error.code > 65534) throw new RangeError(`invalid error code ${error.code}`);
  const text = Buffer.from(error.message, "utf8").toString("hex");
  const sql = `SIGNAL SQLSTATE '${error.sqlState}' SET MYSQL_ERRNO = ${error.code}, MESSAGE_TEXT = X'${text}'`;
  return Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(sql, "latin1")]);
}
