import type net from "node:net";
import tls from "node:tls";
import { Duplex } from "node:stream";
import { logger } from "@/server/logger";
import { ClientError } from "./client-error";
import { ConnectionClosedError, PacketStream } from "./packet-stream";
import { Capability, ErrorCode, NATIVE_PASSWORD } from "./protocol/constants";
import { MalformedPacketError } from "./protocol/buffer-reader";
import {
  decodeHandshakeResponse,
  encodeAuthSwitch,
  encodeError,
  encodeGreeting,
  generateScramble,
  isSslRequest,
  type HandshakeResponse,
} from "./protocol/handshake";
import { encodePacket, PacketTooLargeError } from "./protocol/packet";
import { RelaySocket, streamReads, type ReadSide } from "./relay-socket";
import { offeredCapabilities, type ServerInfo } from "./server-info";

// The client's side of the wire, up to the hand-over to the relay: the greeting, the optional TLS upgrade
// (SSLRequest), the handshake response, an auth switch to native password, and the one answer that ends
// the handshake (the compute's OK, or an error packet). It knows packets and sockets, not projects: who may
// log in where is proxy/policy.ts, the compute side is proxy/attach.ts.

/** Handshake packets are small; anything larger is hostile. */
const MAX_HANDSHAKE_PACKET = 16 * 1024;

export interface TransportSettings {
  serverInfo: ServerInfo;
  tlsContext: tls.SecureContext | null;
  tlsRequired: boolean;
  handshakeTimeoutMs: number;
  metrics: { handshake(result: string): void };
}

/** What the client said in its handshake, and its native-password answer to the proxy's scramble. */
export interface ClientHello {
  response: HandshakeResponse;
  token: Buffer;
}

/** The client connection as the relay takes it over. */
export interface HandedOver {
  socket: Duplex;
  reads: ReadSide;
  /** Bytes the client already sent after its handshake. */
  leftover: Buffer;
}

export class ClientTransport {
  /** What the client talks through: the TCP socket, or the TLS socket over it after an SSLRequest. */
  socket: Duplex;
  /** The TLS server name (SNI) the client asked for, if any. */
  serverName: string | null = null;
  readonly scramble = generateScramble();
  /** Epoch ms by which the client must have logged in (a refusal is answered before it). */
  readonly handshakeDeadline: number;
  private readonly stream: PacketStream;
  private lastSequence = 0;
  private done = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly raw: net.Socket,
    private readonly settings: TransportSettings,
  ) {
    raw.setNoDelay(true);
    this.socket = raw;
    this.stream = new PacketStream(raw, MAX_HANDSHAKE_PACKET);
    this.handshakeDeadline = Date.now() + settings.handshakeTimeoutMs;
    this.timer = setTimeout(() => this.drop("timeout"), settings.handshakeTimeoutMs);
  }

  /** Whether the client upgraded to TLS. */
  get tls(): boolean {
    return this.socket !== this.raw;
  }

  /** The handshake was answered (or given up), or the client left meanwhile. */
  get gone(): boolean {
    return this.done || this.raw.destroyed;
  }

  /** Greet the client (as connection `connectionId`) and read its login, upgrading to TLS on the way. */
  async handshake(connectionId: number): Promise<ClientHello> {
    const { serverInfo, tlsContext } = this.settings;
    const capabilities = offeredCapabilities(serverInfo, tlsContext !== null);
    this.raw.write(encodePacket(encodeGreeting({ ...serverInfo, connectionId, scramble: this.scramble, capabilities, authPlugin: NATIVE_PASSWORD }), 0));

    let packet = await this.read();
    if (isSslRequest(packet.payload)) {
      await this.startTls();
      packet = await this.read();
    } else if (this.settings.tlsRequired) {
      throw new ClientError(
        ErrorCode.SECURE_TRANSPORT_REQUIRED,
        "HY000",
        "Connections using insecure transport are prohibited on this proxy; connect with TLS (e.g. mariadb --ssl)",
        "tls_required",
      );
    }
    const response = decodeHandshakeResponse(packet.payload);
    // The client's native-password token for our scramble; other plugins are switched to native password.
    let token = response.authResponse;
    const native = response.authPlugin === null || response.authPlugin === NATIVE_PASSWORD;
    if (!(native && token.length === 20) && (response.capabilities & Capability.PLUGIN_AUTH) !== 0 && !(native && token.length === 0)) {
      this.send(encodeAuthSwitch(NATIVE_PASSWORD, this.scramble));
      token = (await this.read()).payload;
    }
    return { response, token };
  }

  /** The client proved who it is: the handshake timeout no longer applies (the wake deadline does). */
  authenticated(): void {
    clearTimeout(this.timer);
  }

  /** End the handshake with the compute's OK; from here the connection is the relay's (handOver). */
  complete(ok: Buffer): void {
    this.done = true;
    clearTimeout(this.timer);
    this.send(ok);
    this.settings.metrics.handshake("ok");
  }

  /** The client's connection for the relay: plain TCP is read into a reused buffer, TLS stays a stream. */
  handOver(): HandedOver {
    const leftover = this.stream.detach();
    const relay = this.tls ? null : RelaySocket.adopt(this.raw);
    return { socket: relay?.socket ?? this.socket, reads: relay ?? streamReads(this.socket), leftover };
  }

  /** Answer a failed handshake: an error packet the client can act on, or nothing when it is gone. */
  fail(error: unknown, address: string): void {
    if (error instanceof ClientError) return this.refuse(error);
    if (error instanceof MalformedPacketError || error instanceof PacketTooLargeError) {
      return this.refuse(new ClientError(ErrorCode.HANDSHAKE, "08S01", `Bad handshake: ${error.message}`, "bad_handshake"));
    }
    if (this.done) return;
    // Port probes and TCP health checks connect and leave (with a FIN, or a reset): nothing to answer,
    // nothing worth a warning.
    if (error instanceof ConnectionClosedError || isConnectionReset(error)) return this.drop("closed");
    logger.warn({ err: error instanceof Error ? error.message : String(error), address }, "client handshake failed");
    this.refuse(new ClientError(ErrorCode.UNAVAILABLE, "08S01", "the proxy could not connect this session; try again in a moment", "error"));
  }

  private async read() {
    const packet = await this.stream.read();
    this.lastSequence = packet.sequenceId;
    return packet;
  }

  private send(payload: Buffer): void {
    this.socket.write(encodePacket(payload, (this.lastSequence + 1) & 0xff));
  }

  private async startTls(): Promise<void> {
    if (!this.settings.tlsContext) throw new ClientError(ErrorCode.HANDSHAKE, "08S01", "TLS is not configured on this proxy", "tls_unavailable");
    // Clients start TLS right after the SSLRequest without waiting, so the ClientHello may already be in
    // the bytes read with it: those are handed to the TLS layer first.
    const early = this.stream.takeBuffered();
    const secure = new tls.TLSSocket(early.length > 0 ? prependBytes(this.raw, early) : this.raw, {
      isServer: true,
      secureContext: this.settings.tlsContext,
    });
    this.stream.replaceSocket(secure);
    this.socket = secure;
    await new Promise<void>((resolve, reject) => {
      secure.once("secure", resolve);
      secure.once("error", reject);
    });
    this.serverName = (secure as tls.TLSSocket & { servername?: string | false }).servername || null;
  }

  /** End the handshake without an answer (the client is too slow, or already gone). */
  private drop(result: "timeout" | "closed"): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.settings.metrics.handshake(result);
    this.stream.detach();
    this.raw.destroy();
  }

  private refuse(error: ClientError): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.settings.metrics.handshake(error.kind);
    this.stream.detach();
    this.socket.end(encodePacket(encodeError(error.code, error.sqlState, error.message), (this.lastSequence + 1) & 0xff));
    this.socket.once("error", () => undefined);
    setTimeout(() => this.raw.destroy(), 1000).unref();
  }
}

/** A duplex over `socket` that yields `first` before the socket's own bytes. */
function prependBytes(socket: net.Socket, first: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on("data", (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("close", () => duplex.destroy());
  socket.on("error", (error) => duplex.destroy(error));
  duplex.push(first);
  return duplex;
}

/** The client reset the connection (ECONNRESET, or EPIPE when we wrote to it after): it is gone. */
function isConnectionReset(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ECONNRESET" || code === "EPIPE";
}
