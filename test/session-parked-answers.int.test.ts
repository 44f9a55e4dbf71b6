import net from "node:net";
import mariadb from "mariadb";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Command, ServerStatus } from "../proxy/protocol/constants";
import { decodeHandshakeResponse, encodeError, encodeGreeting, encodeOk, generateScramble } from "../proxy/protocol/handshake";
import { encodePacket, PacketCollector } from "../proxy/protocol/packet";
import { initialServerInfo } from "../proxy/server-info";
import { parkedAnswer } from "../proxy/session-state/parked-answers";
import { startPlainMariadb, type PlainMariadb } from "./plain-mariadbd";

// What a parked session answers without its compute: a stand-in server that logs anyone in and answers
// every command with parkedAnswer (or an error), checked against what a real mariadbd answers the same
// clients for the same pool validation commands.

let server: PlainMariadb;
let parked: net.Server;
let parkedPort: number;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  server = await startPlainMariadb();
  parked = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const info = initialServerInfo();
    const collector = new PacketCollector(1 << 20);
    let capabilities = 0;
    let extendedCapabilities = 0;
    socket.write(
      encodePacket(encodeGreeting({ ...info, connectionId: 1, scramble: generateScramble(), authPlugin: "mysql_native_password" }), 0),
    );
    socket.on("data", (chunk: Buffer) => {
      collector.push(chunk);
      for (let packet = collector.next(); packet; packet = collector.next()) {
        if (capabilities === 0) {
          const login = decodeHandshakeResponse(packet.payload);
          capabilities = login.capabilities & info.capabilities;
          extendedCapabilities = login.extendedCapabilities & info.extendedCapabilities;
          socket.write(encodePacket(encodeOk(ServerStatus.AUTOCOMMIT), packet.sequenceId + 1));
          continue;
        }
        if (packet.payload[0] === Command.QUIT) return void socket.end();
        const answer = parkedAnswer(packet.payload, ServerStatus.AUTOCOMMIT, capabilities, extendedCapabilities);
        socket.write(answer ?? encodePacket(encodeError(1158, "08S01", "this command would wake the compute"), 1));
      }
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => parked.listen(0, "127.0.0.1", resolve));
  parkedPort = (parked.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => parked?.close(resolve));
  await server?.stop();
});

const QUERIES = ["SELECT 1", "/* ping */ SELECT 1", "select 1;", "DO 1"];

describe("answers on a parked session", () => {
  it("mysql2 (EOF framing) gets what the server would answer", async () => {
    const answers = async (port: number) => {
      const conn = await mysql.createConnection({ host: "127.0.0.1", port, user: server.user, password: server.password });
      const out: unknown[] = [];
      for (const sql of QUERIES) {
        const [rows, fields] = await conn.query(sql);
        out.push({ rows, fields: fields?.map((f) => ({ name: f.name, type: f.columnType, flags: f.flags, charset: f.characterSet, length: f.columnLength })) });
      }
      await conn.ping();
      await conn.end();
      return out;
    };
    expect(await answers(parkedPort)).toEqual(await answers(server.port));
  });

  it("MariaDB Connector/Node (CLIENT_DEPRECATE_EOF) gets what the server would answer", async () => {
    const answers = async (port: number) => {
      const conn = await mariadb.createConnection({ host: "127.0.0.1", port, user: server.user, password: server.password });
      const out: unknown[] = [];
      for (const sql of QUERIES) {
        const result = await conn.query(sql);
        const meta = (result as { meta?: { name(): string; type: string; columnType: number; flags: number; collation: { index: number } }[] }).meta;
        out.push({ rows: Array.isArray(result) ? [...result] : result, meta: meta?.map((m) => ({ name: m.name(), type: m.type, columnType: m.columnType, flags: m.flags, collation: m.collation?.index })) });
      }
      await conn.ping();
      await conn.end();
      return out;
    };
    expect(await answers(parkedPort)).toEqual(await answers(server.port));
  });

  it("anything else is left to the compute", () => {
    for (const sql of ["SELECT 2", "SELECT 1 FROM t", "DO SLEEP(1)"]) {
      expect(parkedAnswer(Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(sql)]), ServerStatus.AUTOCOMMIT, 0, 0)).toBeNull();
    }
    expect(parkedAnswer(Buffer.from([Command.PING]), null, 0, 0)).toBeNull(); // status unknown: ask the compute
  });
});
