import net from "node:net";
import { Capability } from "../proxy/protocol/constants";
import { decodeGreeting, encodeHandshakeResponse } from "../proxy/protocol/handshake";
import { encodePacket, PacketCollector, type Packet } from "../proxy/protocol/packet";
import { nativeToken } from "../proxy/protocol/native-password";

// A bare MySQL-protocol client for what no Node driver sends: cursors (COM_STMT_EXECUTE with a cursor
// flag, COM_STMT_FETCH) and COM_STMT_SEND_LONG_DATA. It sends raw commands and reads raw packets; the
// caller knows how many packets each reply has.

export class RawClient {
  private readonly collector = new PacketCollector(1 << 24);
  private waiting: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.collector.push(chunk);
      this.waiting?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  static async connect(port: number, user: string, password: string, database: string, deprecateEof = false): Promise<RawClient> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new RawClient(socket);
    const greeting = decodeGreeting((await client.read()).payload);
    const capabilities =
      Capability.LONG_PASSWORD |
      Capability.PROTOCOL_41 |
      Capability.SECURE_CONNECTION |
      Capability.PLUGIN_AUTH |
      Capability.CONNECT_WITH_DB |
      Capability.TRANSACTIONS |
      Capability.MULTI_RESULTS |
      Capability.SESSION_TRACK |
      (deprecateEof ? Capability.DEPRECATE_EOF : 0);
    const response = encodeHandshakeResponse({
      capabilities,
      extendedCapabilities: 0,
      maxPacketSize: 1 << 24,
      collation: 45,
      user,
      authResponse: nativeToken(greeting.scramble, password),
      database,
      authPlugin: "mysql_native_password",
      connectAttributes: null,
    });
    socket.write(encodePacket(response, 1));
    const ok = await client.read();
    if (ok.payload[0] !== 0x00) throw new Error(`login failed: ${ok.payload.subarray(9).toString()}`);
    return client;
  }

  async read(): Promise<Packet> {
    for (;;) {
      const packet = this.collector.next();
      if (packet) return packet;
      if (this.closed) throw new Error("connection closed");
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = null;
    }
  }

  async readN(n: number): Promise<Packet[]> {
    const packets: Packet[] = [];
    for (let i = 0; i < n; i++) packets.push(await this.read());
    return packets;
  }

  /** Reads until a packet whose first byte is 0xFE (EOF, or OK ending a result set) or 0xFF (ERR), inclusive. */
  async readUntilEnd(): Promise<Packet[]> {
    const packets: Packet[] = [];
    for (;;) {
      const p = await this.read();
      packets.push(p);
      if ((p.payload[0] === 0xfe && p.payload.length < 0xffffff) || p.payload[0] === 0xff) return packets;
    }
  }

  send(payload: Buffer, sequenceId = 0): void {
    this.socket.write(encodePacket(payload, sequenceId));
  }

  close(): void {
    this.socket.destroy();
  }
}
