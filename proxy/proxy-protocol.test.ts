import net from "node:net";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { parseProxyHeader, proxyProtocolPeers, readProxyHeader } from "./proxy-protocol";

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function v2(command: number, family: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = family;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, head, body]);
}

function ipv4Body(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

describe("PROXY protocol header", () => {
  it("reads v1 TCP4, TCP6 and UNKNOWN", () => {
    expect(parseProxyHeader(Buffer.from("PROXY TCP4 203.0.113.7 10.0.0.5 51234 3307\r\nrest"))).toEqual({
      kind: "header",
      length: 44,
      source: { address: "203.0.113.7", port: 51234 },
    });
    expect(parseProxyHeader(Buffer.from("PROXY TCP6 2001:db8::7 2001:db8::1 4000 3307\r\n"))).toMatchObject({ source: { address: "2001:db8::7", port: 4000 } });
    expect(parseProxyHeader(Buffer.from("PROXY UNKNOWN\r\n"))).toEqual({ kind: "header", length: 15, source: null });
  });

  it("reads v2 PROXY over IPv4 and IPv6, and LOCAL (a health check) as no client", () => {
    const four = v2(1, 0x11, ipv4Body([198, 51, 100, 9], [10, 0, 0, 5], 40000, 3307));
    expect(parseProxyHeader(Buffer.concat([four, Buffer.from("x")]))).toEqual({ kind: "header", length: 28, source: { address: "198.51.100.9", port: 40000 } });
    const six = Buffer.alloc(36);
    Buffer.from("20010db8000000000000000000000007", "hex").copy(six, 0);
    six.writeUInt16BE(5555, 32);
    expect(parseProxyHeader(v2(1, 0x21, six))).toMatchObject({ source: { address: "2001:db8::7", port: 5555 } });
    expect(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))).toEqual({ kind: "header", length: 16, source: null });
  });

  it("waits for more bytes of a partial header and refuses what is not one", () => {
    expect(parseProxyHeader(Buffer.from("PROX"))).toEqual({ kind: "incomplete" });
    expect(parseProxyHeader(Buffer.from("PROXY TCP4 1.2.3.4"))).toEqual({ kind: "incomplete" });
    expect(parseProxyHeader(SIG.subarray(0, 7))).toEqual({ kind: "incomplete" });
    expect(parseProxyHeader(v2(1, 0x11, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)).subarray(0, 20))).toEqual({ kind: "incomplete" });
    expect(parseProxyHeader(Buffer.from("\x03\x00\x00\x01"))).toMatchObject({ kind: "invalid" });
    expect(parseProxyHeader(Buffer.from("PROXY TCP4 not-an-ip 10.0.0.5 1 2\r\n"))).toMatchObject({ kind: "invalid" });
    expect(parseProxyHeader(Buffer.from(`PROXY TCP4 ${"1".repeat(120)}`))).toMatchObject({ kind: "invalid" });
    const badVersion = v2(1, 0x11, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
    badVersion[12] = 0x31;
    expect(parseProxyHeader(badVersion)).toMatchObject({ kind: "invalid" });
  });

  it("only the configured peers must send it", () => {
    expect(proxyProtocolPeers([])).toBeNull();
    const peers = proxyProtocolPeers(["10.0.0.0/8", "192.0.2.1"])!;
    expect(peers("10.1.2.3")).toBe(true);
    expect(peers("::ffff:192.0.2.1")).toBe(true);
    expect(peers("192.0.2.2")).toBe(false);
  });

  it("takes the header off a real connection (split over packets), gives the rest back, and the socket reports the client", async () => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as net.AddressInfo).port;
    const accepted = once(server, "connection") as Promise<[net.Socket]>;
    const client = net.connect(port, "127.0.0.1");
    await once(client, "connect");
    const [socket] = await accepted;
    const header = readProxyHeader(socket, 5000);
    client.write("PROXY TCP4 203.0.1");
    await new Promise((r) => setTimeout(r, 20));
    client.write("13.7 127.0.0.1 61000 3307\r\nfirst bytes");
    expect(await header).toEqual({ address: "203.0.113.7", port: 61000 });
    expect(socket.remoteAddress).toBe("203.0.113.7");
    expect(socket.remotePort).toBe(61000);
    const data = once(socket, "data");
    socket.resume();
    expect(String((await data)[0])).toBe("first bytes");
    client.destroy();
    socket.destroy();
    server.close();
  });

  it("rejects a connection that sends no header in time, or something else", async () => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as net.AddressInfo).port;
    for (const send of [null, "\x03SELECT 1"]) {
      const accepted = once(server, "connection") as Promise<[net.Socket]>;
      const client = net.connect(port, "127.0.0.1");
      const [socket] = await accepted;
      const header = readProxyHeader(socket, 200);
      if (send) client.write(send);
      await expect(header).rejects.toThrow(send ? /no PROXY protocol header$/ : /in time/);
      client.destroy();
      socket.destroy();
    }
    server.close();
  });
});
