import { ErrorCode } from "./protocol/constants";

/** An error the client should see as a MySQL error packet, with a message a person can act on. */
export class ClientError extends Error {
  constructor(
    readonly code: number,
    readonly sqlState: string,
    message: string,
    /** For metrics and logs: what kind of refusal this was. */
    readonly kind: string,
  ) {
    super(message);
  }
}

export const accessDenied = (user: string, address: string) =>
  new ClientError(ErrorCode.ACCESS_DENIED, "28000", `Access denied for user '${user}'@'${address}' (using password: YES)`, "auth_failed");

export const unavailable = (message: string, kind: string) => new ClientError(ErrorCode.UNAVAILABLE, "08S01", message, kind);
