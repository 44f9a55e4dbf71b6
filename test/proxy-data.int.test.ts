import crypto from "node:crypto";
import net from "node:net";
import os from "node:os";
import { Readable } from "node:stream";
import type mysql from "mysql2/promise";
import mariadb from "mariadb";
import { describe, expect, inject, it } from "vitest";
import { newTenant } from "./api";
import { createProjectWithCompute, pidOf, type CreatedCompute } from "./compute";
import { connectProxy, proxyPort } from "./proxy";

// After the handshake the proxy is a byte pump: whatever works on a direct connection works through it.

let shared: CreatedCompute | undefined;
async function compute(): Promise<CreatedCompute> {
  shared ??= await createProjectWithCompute(await newTenant());
  return shared;
}

describe("proxy: forwarding", () => {
  it("carries 8 MiB values and payloads over 16 MiB (multi-packet) both ways", async () => {
    const c = await compute();
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    await conn.query("CREATE TABLE blobs (id INT PRIMARY KEY, body LONGBLOB)");
    for (const [id, size] of [[1, 8 * 1024 * 1024 + 17], [2, 20 * 1024 * 1024]] as const) {
      const body = crypto.randomBytes(size);
      await conn.execute("INSERT INTO blobs VALUES (?, ?)", [id, body]);
      const [rows] = await conn.query("SELECT body, MD5(body) AS md5 FROM blobs WHERE id = ?", [id]);
      const row = (rows as { body: Buffer; md5: string }[])[0]!;
      expect(row.md5).toBe(crypto.createHash("md5").update(body).digest("hex"));
      expect(Buffer.compare(row.body, body)).toBe(0);
    }
    await conn.end();
  });

  it("runs prepared statements, multi-statements and LOAD DATA LOCAL", async () => {
    const c = await compute();
    const conn = await connectProxy(`${c.slug}.app`, c.password, {
      multipleStatements: true,
      infileStreamFactory: () => Readable.from(Array.from({ length: 1000 }, (_, i) => Buffer.from(`${i}\tline ${i}\n`))),
    });
    await conn.query("CREATE TABLE textlines (n INT, t VARCHAR(32)); CREATE TABLE kv (k VARCHAR(8) PRIMARY KEY, v INT)");
    const [loaded] = await conn.query("LOAD DATA LOCAL INFILE 'lines.tsv' INTO TABLE textlines");
    expect((loaded as { affectedRows: number }).affectedRows).toBe(1000);
    for (let i = 0; i < 20; i++) await conn.execute("INSERT INTO kv VALUES (?, ?)", [`k${i}`, i]);
    const [sum] = await conn.execute("SELECT SUM(v) AS s FROM kv WHERE v >= ?", [10]);
    expect(sum).toEqual([{ s: "145" }]);
    const [multi] = await conn.query("SELECT COUNT(*) AS n FROM textlines; SELECT MAX(t) AS m FROM textlines");
    expect(multi).toEqual([[{ n: 1000 }], [{ m: "line 999" }]]);
    await conn.end();
  });

  it("passes LOAD DATA LOCAL packets whose sequence id wrapped to 0 as data, even when they look like a KILL", async () => {
    const c = await compute();
    // mysql2 sends each chunk as one packet, numbered from 2: packets 254, 510 and 766 have sequence id 0.
    const chunk = (i: number) => (i === 254 ? "\x03KILL 1\n" : i === 510 ? "\x0cxxxx\n" : `row ${i}\n`);
    const conn = await connectProxy(`${c.slug}.app`, c.password, {
      infileStreamFactory: () => Readable.from(Array.from({ length: 800 }, (_, i) => Buffer.from(chunk(i), "latin1"))),
    });
    await conn.query("CREATE TABLE uploaded (t VARCHAR(64) CHARACTER SET latin1)");
    const [loaded] = await conn.query("LOAD DATA LOCAL INFILE 'rows.txt' INTO TABLE uploaded");
    expect((loaded as { affectedRows: number }).affectedRows).toBe(800);
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT t FROM uploaded WHERE t NOT LIKE 'row %'");
    expect(rows.map((r) => r.t as string).sort()).toEqual(["\x03KILL 1", "\x0cxxxx"]);
    await conn.end();
  });

  it("never passes an unchecked COM_CHANGE_USER to the compute: an oversized one ends the session", async () => {
    const c = await compute();
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    const stream = (conn as unknown as { connection: { stream: net.Socket } }).connection.stream;
    conn.on("error", () => undefined);
    let received = "";
    stream.on("data", (d: Buffer) => (received += d.toString("latin1")));
    const closed = new Promise((resolve) => stream.once("close", resolve));
    // As the control plane's OS user, padded past what the proxy checks (MariaDB ignores trailing bytes).
    const payload = Buffer.concat([
      Buffer.from([0x11]),
      Buffer.from(`${os.userInfo().username}\0`),
      Buffer.from([20]),
      Buffer.alloc(20, 1),
      Buffer.from("main\0"),
      Buffer.from([45, 0]),
      Buffer.from("mysql_native_password\0"),
      Buffer.alloc(80 * 1024, 0x20),
    ]);
    const header = Buffer.alloc(4);
    header.writeUIntLE(payload.length, 0, 3);
    stream.write(Buffer.concat([header, payload]));
    await closed;
    expect(received).toContain("COM_CHANGE_USER packet too large");
  });

  it("keeps replies in order when a refused KILL is pipelined behind a slow query (mariadb connector)", async () => {
    const c = await compute();
    const conn = await mariadb.createConnection({ host: "127.0.0.1", port: proxyPort(), user: `${c.slug}.app`, password: c.password });
    const slow = conn.query("SELECT SLEEP(0.3) AS slept");
    const kill = conn.query("KILL 12345"); // sent right behind it: the connector pipelines
    kill.catch(() => undefined);
    expect(await slow).toEqual([{ slept: 0 }]);
    await expect(kill).rejects.toMatchObject({ errno: 1094, sqlMessage: "Unknown thread id: 12345" });
    await conn.end();
  });

  it("lets KILL QUERY with the client's connection id cancel its running query", async () => {
    const c = await compute();
    const a = await connectProxy(`${c.slug}.app`, c.password);
    const b = await connectProxy(`${c.slug}.app`, c.password);
    const started = Date.now();
    const slow = a.query("SELECT SLEEP(20) AS slept");
    slow.catch(() => undefined); // handled below; it may fail before the KILL's own reply arrives
    await new Promise((r) => setTimeout(r, 300));
    await b.query(`KILL QUERY ${a.threadId}`);
    await expect(slow).rejects.toMatchObject({ errno: 1317, message: "Query execution was interrupted" });
    expect(Date.now() - started).toBeLessThan(10_000);
    // the connection itself survives a KILL QUERY
    await a.query("SELECT 1");
    // Clients spread over the proxy's workers round-robin, so a KILL may arrive on any of them: from a few
    // fresh connections in a row, each one finds the session (an unknown id would be error 1094).
    for (let i = 0; i < 3; i++) {
      const other = await connectProxy(`${c.slug}.app`, c.password);
      await other.query(`KILL QUERY ${a.threadId}`);
      await other.end();
    }
    await expect(b.query("KILL QUERY 99999999")).rejects.toMatchObject({ errno: 1094 });
    await a.end();
    await b.end();
  });

  it("gives the client an error or a close, not a hang, when the compute dies mid-session", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    const pending = conn.query("SELECT SLEEP(30)");
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pidOf(inject("dataDir"), c.computeId)!, "SIGKILL");
    const started = Date.now();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("survives clients that vanish mid-query", async () => {
    const c = await compute();
    for (let i = 0; i < 5; i++) {
      const conn = await connectProxy(`${c.slug}.app`, c.password);
      void conn.query("SELECT SLEEP(5)").catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      conn.destroy();
    }
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    expect((await conn.query("SELECT 7 AS n"))[0]).toEqual([{ n: 7 }]);
    await conn.end();
  });

  it("drops a client that never finishes its handshake", async () => {
    const socket = net.connect(proxyPort(), "127.0.0.1");
    const started = Date.now();
    const greeting = await new Promise<Buffer>((resolve) => socket.once("data", resolve));
    expect(greeting[4]).toBe(10); // protocol version 10
    await new Promise((resolve) => socket.once("close", resolve));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(2500); // PROXY_HANDSHAKE_TIMEOUT_MS is 3 s in the tests
    expect(elapsed).toBeLessThan(8000);
  });
});
