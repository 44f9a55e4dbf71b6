import { Command, MAX_PAYLOAD } from "../protocol/constants";
import { LAST_PREPARED_STATEMENT, STATEMENT_COMMANDS } from "../protocol/statement-packets";

// After a parked session is restored on a new compute connection, its client keeps the statement ids it
// was given, while the server numbers the re-prepared statements afresh (from 1, colliding with the
// client's). The proxy then translates both ways: the id in each statement command the client sends
// (client id -> server id), and the id in each COM_STMT_PREPARE_OK the server sends (server id -> an id
// the client has not used). Sessions that were never restored have no map and pay nothing.

export class StatementIds {
  private readonly toServer = new Map<number, number>();
  private nextClientId: number;

  /** `usedClientIds`: the ids the client holds (a new statement gets a larger one). */
  constructor(usedClientIds: Iterable<number>) {
    let max = 0;
    for (const id of usedClientIds) max = Math.max(max, id);
    this.nextClientId = max + 1;
  }

  /** A statement re-prepared at restore: the client's id now means the server's. */
  restored(clientId: number, serverId: number): void {
    this.toServer.set(clientId, serverId);
  }

  /** A statement the client prepares on this connection: the id it is given instead of the server's. */
  prepared(serverId: number): number {
    const clientId = this.nextClientId++;
    if (this.nextClientId >= LAST_PREPARED_STATEMENT) this.nextClientId = 1;
    this.toServer.set(clientId, serverId);
    return clientId;
  }

  /** The server's id for a client id (an unknown id goes as it is: the server answers "unknown statement"). */
  serverId(clientId: number): number {
    if (clientId === LAST_PREPARED_STATEMENT) return clientId;
    return this.toServer.get(clientId) ?? 0;
  }

  closed(clientId: number): void {
    this.toServer.delete(clientId);
  }
}

/**
 * Rewrites the statement id of each statement command in the bytes sent to the compute, following packet
 * boundaries itself (it sees every byte sent, in order). The sender guarantees that a statement command's
 * first 9 bytes (header, command, id) are never split between two writes. A part that needs a change is
 * copied first (the caller may still hold the original).
 */
export class ClientIdRewriter {
  private remaining = 0;
  private continuation = false;

  constructor(private readonly ids: StatementIds) {}

  rewrite(part: Buffer): Buffer {
    let out = part;
    let offset = 0;
    while (offset < part.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, part.length - offset);
        offset += take;
        this.remaining -= take;
        continue;
      }
      if (part.length - offset < 4) throw new Error("a packet header split between writes");
      const length = part.readUIntLE(offset, 3);
      const isCommand = !this.continuation && part[offset + 3] === 0;
      this.continuation = length === MAX_PAYLOAD;
      const command = part[offset + 4];
      if (isCommand && length >= 5 && command !== undefined && STATEMENT_COMMANDS.has(command)) {
        if (part.length - offset < 9) throw new Error("a statement command split between writes");
        const clientId = part.readUInt32LE(offset + 5);
        if (out === part) out = Buffer.from(part);
        out.writeUInt32LE(this.ids.serverId(clientId), offset + 5);
        if (command === Command.STMT_CLOSE) this.ids.closed(clientId);
      }
      this.remaining = 4 + length;
    }
    return out;
  }
}
