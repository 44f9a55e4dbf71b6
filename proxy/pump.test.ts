import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Command } from "./protocol/constants";
import { encodePacket } from "./protocol/packet";
import { pump, type CommandGate, type GateOutcome } from "./pump";
import type { ChunkFilter, ReadSide } from "./relay-socket";
import { KillRouter } from "./kill-router";
import { SessionRegistry } from "./sessions";

// The client -> compute filter, fed chunk by chunk as the network may split them.

function harness(ask: (id: number) => Promise<number | null> = () => Promise.resolve(null), gate?: CommandGate) {
  const registry = new SessionRegistry();
  registry.setSlot(5);
  const target = registry.allocateId();
  registry.register(target, { projectId: "p", computeId: "c", backendThreadId: 77 });
  const kills = new KillRouter({ registry, instances: { ask: (_slot, id) => ask(id) } });
  const toCompute: Buffer[] = [];
  const backend = new PassThrough();
  backend.on("data", (d: Buffer) => toCompute.push(d));
  const client = new PassThrough();
  let filter: ChunkFilter | undefined;
  const clientReads: ReadSide = { relayTo: (_t, f) => (filter = f), release: () => undefined };
  const handle = pump({
    client,
    clientReads,
    backend,
    computeReads: { relayTo: () => undefined, release: () => undefined },
    clientLeftover: Buffer.alloc(0),
    backendLeftover: Buffer.alloc(0),
    changeUser: () => Promise.reject(new Error("not in this test")),
    resolveKill: (id) => kills.resolve(id, { projectId: "p", computeId: "c" }),
    onActivity: () => undefined,
    onClose: () => undefined,
    gate,
  });
  const feed = (chunk: Buffer) => filter!(Buffer.from(chunk), (part) => backend.write(part));
  return { target, feed, sent: () => Buffer.concat(toCompute), client, handle };
}

const query = (sql: string) => encodePacket(Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(sql)]), 0);

describe("pump: the client's commands", () => {
  it("translates a KILL QUERY however the network splits it", () => {
    for (let split = 1; split < 20; split++) {
      const { target, feed, sent } = harness();
      const packet = query(`KILL QUERY ${target}`);
      feed(packet.subarray(0, split));
      feed(packet.subarray(split));
      expect(sent(), `split at ${split}`).toEqual(query("KILL QUERY 77"));
    }
  });

  it("answers a KILL of an unknown id through the compute (a SIGNAL), so the error keeps its place among replies", () => {
    const { target, feed, sent } = harness();
    feed(query(`KILL ${target + 1}`)); // in this process's own block: answered here, nobody asked
    expect(sent().subarray(5).toString("latin1")).toMatch(/^SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1094, MESSAGE_TEXT = X'/);
  });

  it("translates a KILL that starts several statements, keeping the rest", () => {
    const { target, feed, sent } = harness();
    feed(query(`KILL ${target}; SELECT SLEEP(0.05)`));
    expect(sent()).toEqual(query("KILL 77; SELECT SLEEP(0.05)"));
  });

  it("holds what follows a KILL whose owner is asked, and sends it after the KILL", async () => {
    let answer: (threadId: number | null) => void = () => undefined;
    const { feed, sent } = harness(() => new Promise((resolve) => (answer = resolve)));
    const elsewhere = 9 * 2 ** 20 + 3; // another process's slot
    feed(Buffer.concat([query(`KILL QUERY ${elsewhere}`), query("SELECT 1")]));
    expect(sent()).toEqual(Buffer.alloc(0));
    answer(812);
    await new Promise((r) => setImmediate(r));
    expect(sent()).toEqual(Buffer.concat([query("KILL QUERY 812"), query("SELECT 1")]));
  });

  it("forwards other statements untouched, split or not", () => {
    const { feed, sent } = harness();
    const packets = [query("SELECT 1"), query("  kindly ignore"), query("INSERT INTO t VALUES (1)"), query(`   SELECT '${"x".repeat(900)}'`)];
    const all = Buffer.concat(packets);
    for (let i = 0; i < all.length; i += 3) feed(all.subarray(i, i + 3));
    expect(sent()).toEqual(all);
  });

  it("hands each command to a closed gate whole, drops what it answered and forwards what it lets through", async () => {
    let closed = true;
    const seen: string[] = [];
    const gate: CommandGate = {
      closed: () => closed,
      command: async (packet) => {
        const sql = packet!.subarray(5).toString();
        seen.push(sql);
        if (sql === "SELECT 1") return "answered";
        closed = false; // a compute connection is back
        return "relay";
      },
    };
    const { feed, sent } = harness(undefined, gate);
    const all = Buffer.concat([query("SELECT 1"), query("SELECT 2"), query("SELECT 3")]);
    for (let i = 0; i < all.length; i += 4) feed(all.subarray(i, i + 4));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(["SELECT 1", "SELECT 2"]);
    expect(sent()).toEqual(Buffer.concat([query("SELECT 2"), query("SELECT 3")]));
  });

  it("lets the command waiting at a closed gate through at once when resumed, and only once", async () => {
    // A session handed a connection directly (proxy/connection-broker.ts) sends its waiting statement
    // in the same turn; the gate's promise settles later, saying so.
    let closed = true;
    let settle: (outcome: GateOutcome) => void = () => undefined;
    const gate: CommandGate = { closed: () => closed, command: () => new Promise((resolve) => (settle = resolve)) };
    const { feed, sent, handle } = harness(undefined, gate);
    expect(handle.resume()).toBe(false); // nothing waits yet
    feed(Buffer.concat([query("SELECT 1"), query("SELECT 2")]));
    expect(sent()).toEqual(Buffer.alloc(0));
    closed = false;
    expect(handle.resume()).toBe(true);
    expect(sent()).toEqual(Buffer.concat([query("SELECT 1"), query("SELECT 2")]));
    settle("resumed");
    await new Promise((r) => setImmediate(r));
    expect(sent()).toEqual(Buffer.concat([query("SELECT 1"), query("SELECT 2")]));
    expect(handle.resume()).toBe(false);
  });
});
