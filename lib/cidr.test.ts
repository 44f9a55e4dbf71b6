import { describe, expect, it } from "vitest";
import { cidrContains, formatIp, normalizeCidr, parseCidr, parseClientAddress, parseIp } from "./cidr";

const contains = (cidr: string, address: string) => cidrContains(parseCidr(cidr)!, parseClientAddress(address)!);

describe("normalizeCidr", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["192.168.1.7", "192.168.1.7/32"],
    [" 127.0.0.1/32 ", "127.0.0.1/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["255.255.255.255/31", "255.255.255.254/31"],
    ["2001:DB8::1/32", "2001:db8::/32"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"],
    ["::1", "::1/128"],
    ["::", "::/128"],
    ["::/0", "::/0"],
    ["fe80::1:2/64", "fe80::/64"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128"],
    ["::ffff:10.1.2.3/104", "10.0.0.0/8"],
    ["::ffff:127.0.0.1", "127.0.0.1/32"],
    ["::ffff:0:0/96", "0.0.0.0/0"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221/128"],
  ])("%s -> %s", (input, expected) => {
    expect(normalizeCidr(input)).toBe(expected);
  });

  it.each([
    "",
    "10.0.0.0/33",
    "10.0.0/8",
    "10.0.0.0.0",
    "256.0.0.1",
    "010.0.0.1",
    "10.0.0.1/08",
    "10.0.0.1/",
    "10.0.0.1/-1",
    "::1/129",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "1:2:3:4::5:6:7:8",
    "12345::",
    "fe80::1%eth0",
    "[::1]",
    "::ffff:1.2.3",
    "example.com",
    "10.0.0.0/8\u0000",
  ])("refuses %j", (input) => {
    expect(normalizeCidr(input)).toBeNull();
  });
});

describe("matching", () => {
  it("matches IPv4 ranges, including IPv4-mapped IPv6 client addresses", () => {
    expect(contains("127.0.0.0/8", "127.0.0.1")).toBe(true);
    expect(contains("127.0.0.0/8", "::ffff:127.0.0.1")).toBe(true);
    expect(contains("10.0.0.0/8", "127.0.0.1")).toBe(false);
    expect(contains("10.0.0.0/8", "::ffff:127.0.0.1")).toBe(false);
    expect(contains("0.0.0.0/0", "203.0.113.9")).toBe(true);
    expect(contains("203.0.113.9", "203.0.113.9")).toBe(true);
    expect(contains("203.0.113.9", "203.0.113.10")).toBe(false);
    expect(contains("192.168.0.0/23", "192.168.1.255")).toBe(true);
    expect(contains("192.168.0.0/23", "192.168.2.0")).toBe(false);
  });

  it("matches IPv6 ranges and keeps the families apart", () => {
    expect(contains("2001:db8::/32", "2001:db8:ffff::1")).toBe(true);
    expect(contains("2001:db8::/32", "2001:db9::1")).toBe(false);
    expect(contains("::1", "::1")).toBe(true);
    expect(contains("fe80::/10", "fe80::1%eth0")).toBe(true);
    expect(contains("::/0", "127.0.0.1")).toBe(false);
    expect(contains("0.0.0.0/0", "::1")).toBe(false);
  });

  it("reads client addresses the way sockets report them", () => {
    expect(formatIp(parseClientAddress("::ffff:10.1.2.3")!)).toBe("10.1.2.3");
    expect(parseClientAddress(undefined)).toBeNull();
    expect(parseClientAddress("garbage")).toBeNull();
    expect(parseIp("::ffff:7f00:1")).toEqual({ family: 4, bytes: new Uint8Array([127, 0, 0, 1]) });
  });
});
