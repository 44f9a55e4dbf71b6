import os from "node:os";
import { PacketStream } from "./packet-stream";
import { Capability, NATIVE_PASSWORD } from "./protocol/constants";
import {
  decodeError,
  decodeGreeting,
  encodeHandshakeResponse,
  type Greeting,
  type HandshakeResponse,
  type ServerError,
} from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { nativeTokenFromStage1 } from "./protocol/native-password";
import { RelaySocket } from "./relay-socket";
import { withTimeout } from "./timeout";

// The proxy's side of a compute connection: it logs in as the client's role with the client's own
// capability flags, collation, database and connect attributes, answering the compute's scramble from
// SHA1(password) that the client's verified token yielded. The compute's OK (or ERR) is returned for the
// caller to relay; everything after that is copied byte for byte.

export interface BackendLogin {
  host: string;
  port: number;
  /** Connect through this Unix socket instead of host:port. */
  socketPath?: string;
  role: string;
  /** SHA1(password), recovered from the client's verified token. */
  stage1: Buffer;
  client: HandshakeResponse;
  connectTimeoutMs: number;
}

export interface BackendSession {
  /** The connection, its reads relayed without copies once the session is pumped. */
  compute: RelaySocket;
  greeting: Greeting;
  /** The capabilities the proxy logged in with (they shape later packets such as COM_CHANGE_USER). */
  capabilities: number;
  /** MariaDB's extended capabilities the login agreed on. */
  extendedCapabilities: number;
  /** The scramble the compute checked the login against (the greeting's, or an auth switch's). */
  scramble: Buffer;
  /** Logged in through the compute's Unix socket (where 'localhost' accounts match). */
  viaSocket: boolean;
  /** The compute's final OK packet payload. */
  ok: Buffer;
  /** Bytes the compute sent after its OK (normally none). */
  leftover: Buffer;
  /**
   * The server this connection reached: its address and version (what proxy/session-state/tracking-
   * defaults.ts caches facts by). Absent: such facts are not cached for it.
   */
  endpoint?: string;
  /** Where the session may leave this connection for the next one like it (proxy/server-pool.ts). */
  poolKey?: string;
  /** Taken from the pool for a new client without a COM_PING yet: the session sends it with the client's OK (proxy/login-ping.ts). */
  pingOwed?: boolean;
}

export class BackendRefusedError extends Error {
  constructor(readonly serverError: ServerError) {
    super(`compute refused the login: ${serverError.code} ${serverError.message}`);
  }
}

/** Open a connection; rejects on refusal or timeout (the caller retries while a compute comes up). */
export function connectCompute(host: string, port: number, socketPath: string | undefined, timeoutMs: number): Promise<RelaySocket> {
  return new Promise((resolve, reject) => {
    const compute = RelaySocket.connect(host, port, socketPath);
    const socket = compute.socket;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${socketPath ?? `${host}:${port}`} timed out`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", reject);
      resolve(compute);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Capabilities the proxy never asks of a compute: it speaks plain TCP to it and doesn't compress. */
const STRIP_TOWARDS_COMPUTE = Capability.SSL | Capability.COMPRESS | Capability.ZSTD_COMPRESSION;

export async function loginToCompute(login: BackendLogin): Promise<BackendSession> {
  const compute = await connectCompute(login.host, login.port, login.socketPath, login.connectTimeoutMs);
  const socket = compute.socket;
  const stream = new PacketStream(socket, 64 * 1024);
  try {
    const greetingPacket = await withTimeout(stream.read(), login.connectTimeoutMs, "the compute's greeting");
    if (greetingPacket.payload[0] === 0xff) throw new BackendRefusedError(decodeError(greetingPacket.payload));
    const greeting = decodeGreeting(greetingPacket.payload);
    const response: HandshakeResponse = {
      ...login.client,
      // CLIENT_MYSQL (bit 0) is the client's own statement about MariaDB extensions: kept as the client sent it.
      capabilities:
        (login.client.capabilities & ~STRIP_TOWARDS_COMPUTE & (greeting.capabilities | Capability.LONG_PASSWORD)) |
        Capability.PLUGIN_AUTH,
      extendedCapabilities: login.client.extendedCapabilities & greeting.extendedCapabilities,
      user: login.role,
      authResponse: nativeTokenFromStage1(greeting.scramble, login.stage1),
      authPlugin: NATIVE_PASSWORD,
    };
    let sequenceId = greetingPacket.sequenceId + 1;
    let scramble = greeting.scramble;
    socket.write(encodePacket(encodeHandshakeResponse(response), sequenceId));
    for (let round = 0; round < 3; round++) {
      const reply = await withTimeout(stream.read(), login.connectTimeoutMs, "the compute's login reply");
      sequenceId = reply.sequenceId + 1;
      const kind = reply.payload[0];
      if (kind === 0x00) {
        const viaSocket = login.socketPath !== undefined;
        return {
          compute,
          greeting,
          capabilities: response.capabilities,
          extendedCapabilities: response.extendedCapabilities,
          scramble,
          viaSocket,
          endpoint: `${login.socketPath ?? `${login.host}:${login.port}`} ${greeting.serverVersion}`,
          ok: reply.payload,
          leftover: stream.detach(),
        };
      }
      if (kind === 0xff) throw new BackendRefusedError(decodeError(reply.payload));
      if (kind === 0xfe) {
        // Auth switch: answer the new scramble, if the compute asks for native password again.
        const rest = reply.payload.subarray(1);
        const nul = rest.indexOf(0);
        const plugin = rest.subarray(0, nul < 0 ? rest.length : nul).toString("latin1");
        if (plugin !== NATIVE_PASSWORD) throw new Error(`the compute asked for auth plugin ${plugin}`);
        scramble = Buffer.from(rest.subarray(nul + 1, nul + 21));
        socket.write(encodePacket(nativeTokenFromStage1(scramble, login.stage1), sequenceId));
        continue;
      }
      throw new Error(`unexpected packet 0x${(kind ?? 0).toString(16)} during the compute login`);
    }
    throw new Error("the compute login did not finish");
  } catch (error) {
    stream.detach();
    socket.destroy();
    throw error;
  }
}

/**
 * The OS user this proxy runs as. On a compute of this machine '<that name>'@'localhost' can be the control
 * plane's own admin account, identified by unix_socket, i.e. by the OS user at the other end of the socket:
 * a role of that name is therefore never logged in through the socket, where it would be matched to that
 * account (over TCP the server sees host 127.0.0.1, which 'localhost' accounts don't match).
 */
const OWN_OS_USER = os.userInfo().username;

/** Whether a session may be (or become, by COM_CHANGE_USER) this role over a compute's Unix socket. */
export function socketLoginAllowed(role: string): boolean {
  return role !== OWN_OS_USER;
}

const CONNECT_ERRORS = new Set(["ENOENT", "ECONNREFUSED", "EACCES", "EPERM", "ENOTSOCK"]);

/**
 * Log in through the compute's Unix socket when it has one on this machine (it costs the kernel less than
 * TCP over loopback: about 10 % more point-selects per second through the proxy), else by TCP. A socket
 * that cannot be opened, or an account that refuses the login there (a tenant may have made its own
 * '<role>'@'localhost'), falls back to TCP, which is the endpoint's contract.
 */
export async function loginPreferringSocket(login: BackendLogin, socketPath: string | null): Promise<BackendSession> {
  if (socketPath && socketLoginAllowed(login.role)) {
    try {
      return await loginToCompute({ ...login, socketPath });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (!(error instanceof BackendRefusedError) && !(typeof code === "string" && CONNECT_ERRORS.has(code))) throw error;
    }
  }
  return loginToCompute({ ...login, socketPath: undefined });
}
