import { Command } from "./protocol/constants";
import { PacketFramer } from "./protocol/packet-framer";
import { ReplyFollower } from "./session-state/reply-follower";
import type { BackendSession } from "./backend";

// Whether a compute connection can be kept when its client quits (proxy/server-pool.ts): the session's
// replies are followed (session-state/reply-follower.ts pairs each command with its reply), and the
// connection is reusable only when the client's COM_QUIT comes with no reply pending, nothing half
// transferred, nothing lost track of, and no COM_CHANGE_USER seen (the connection would no longer be the
// login the pool's key describes). This is the one place that says so: when the proxy follows whole
// sessions (parking), the same answer comes from that follower.

export interface ReuseWatch {
  toCompute(part: Buffer): void;
  toClient(chunk: Buffer): void;
  /** At the client's COM_QUIT: whether the connection may be reset and pooled. */
  reusable(): boolean;
}

/**
 * `databaseFixed`: the login named a database, which the reset puts back (COM_INIT_DB). A login without
 * one cannot be brought back to "no database", so a session that may have chosen one (COM_INIT_DB, or a
 * statement with the word USE) is not kept.
 */
export function watchForReuse(backend: BackendSession, databaseFixed: boolean): ReuseWatch {
  let changedUser = false;
  let choseDatabase = false;
  const replies = new ReplyFollower({
    capabilities: backend.capabilities,
    extendedCapabilities: backend.extendedCapabilities,
    onReply: (reply) => {
      const { code, sql } = reply.command;
      if (code === Command.CHANGE_USER) changedUser = true;
      // (a query too large to be kept whole is not read: it may have said USE)
      else if (!databaseFixed && (code === Command.INIT_DB || (code === Command.QUERY && (sql === undefined || USE.test(sql))))) choseDatabase = true;
    },
  });
  const fromClient = new PacketFramer((p) => replies.clientPacket(p));
  const fromServer = new PacketFramer((p) => replies.serverPacket(p));
  return {
    toCompute: (part) => fromClient.push(part),
    toClient: (chunk) => fromServer.push(chunk),
    reusable: () => replies.lost === null && replies.inFlight === 0 && fromClient.idle && fromServer.idle && !changedUser && !choseDatabase,
  };
}

const USE = /\buse\b/i;
