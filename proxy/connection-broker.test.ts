import type net from "node:net";
import { describe, expect, it } from "vitest";
import type { BackendSession } from "./backend";
import { ConnectionBroker, Lease, type Lender, type Visible, type Wanted } from "./connection-broker";
import { FakeSocket } from "./fake-socket.test-support";
import type { PoolSnapshot } from "./pool-snapshot";


const backendOn = (socket: FakeSocket) => ({ compute: { socket } }) as unknown as BackendSession;

function opened(broker: ConnectionBroker, computeId = "c1") {
  expect(broker.reserve(computeId)).toBe(true);
  const socket = new FakeSocket();
  broker.opened(computeId, socket as unknown as net.Socket);
  return socket;
}

const owner = (gives: boolean): Lender & { asked: number } => {
  const o = { asked: 0, surrender: async () => (o.asked++, gives), visibleNow: () => null, letGoNow: () => undefined };
  return o;
};

describe("ConnectionBroker", () => {
  it("never lets more server connections of a compute open than its limit, and frees room when one closes", async () => {
    const broker = new ConnectionBroker({ limit: 2, queueTimeoutMs: 1000 });
    const a = opened(broker);
    opened(broker);
    expect(broker.reserve("c1")).toBe(false);
    expect(broker.hasRoom("c2")).toBe(true); // another compute has its own limit
    const waiting = broker.obtain("c1", { key: null, needsNoDatabase: false }, "the compute");
    a.destroy();
    await expect(waiting).resolves.toEqual({ kind: "room" });
    // The room was reserved for the waiter: nobody else gets it.
    expect(broker.reserve("c1")).toBe(false);
    broker.unreserve("c1");
    expect(broker.reserve("c1")).toBe(true);
  });

  it("gives a released connection back to its owner, or to a waiter of the same login once the owner surrenders it", async () => {
    const broker = new ConnectionBroker({ limit: 1, queueTimeoutMs: 1000 });
    const socket = opened(broker);
    const mine = new Lease("c1", "login", backendOn(socket), false, null, owner(true));
    broker.release(mine);
    expect(await broker.reclaim(mine)).toBe("mine");

    const lender = owner(true);
    const lease = new Lease("c1", "login", backendOn(socket), false, null, lender);
    broker.release(lease);
    // The same login takes it, after the owner surrendered it.
    const same = await broker.obtain("c1", { key: "login", needsNoDatabase: false }, "the compute");
    expect(same).toEqual({ kind: "lease", lease });
    expect(lender.asked).toBe(1);
    expect(await broker.reclaim(lease)).toBe("taken");
    const other = broker.obtain("c1", { key: "other login", needsNoDatabase: false }, "the compute");
    socket.destroy();
    await expect(other).resolves.toEqual({ kind: "room" });
  });

  it("hands a connection over directly when its owner knows its state and the taker finds it its own, else the usual way", async () => {
    const broker = new ConnectionBroker({ limit: 1, queueTimeoutMs: 1000 });
    const socket = opened(broker);
    const visible = { state: {}, capture: {} } as unknown as Visible;
    const lender = { asked: 0, letGone: 0, surrender: async () => (lender.asked++, true), visibleNow: () => visible, letGoNow: () => void lender.letGone++ };
    const takes: Visible[] = [];
    const taker = (accepts: boolean): Wanted => ({
      key: "login",
      needsNoDatabase: false,
      adopt: (seen, take) => {
        if (!accepts) return false;
        takes.push(seen);
        expect(take().state).toBe("taken"); // the owner let go before the taker goes on
        return true;
      },
    });
    // Released first, then obtained: taken at once, the owner never asked to surrender.
    const first = new Lease("c1", "login", backendOn(socket), false, null, lender);
    broker.release(first);
    expect(await broker.obtain("c1", taker(true), "the compute")).toEqual({ kind: "adopted" });
    expect({ takes: takes.length, letGone: lender.letGone, asked: lender.asked, seen: takes[0] }).toEqual({ takes: 1, letGone: 1, asked: 0, seen: visible });
    expect(await broker.reclaim(first)).toBe("taken");
    // A waiter served by a release: the same.
    const waiting = broker.obtain("c1", taker(true), "the compute");
    broker.release(new Lease("c1", "login", backendOn(socket), false, null, lender));
    await expect(waiting).resolves.toEqual({ kind: "adopted" });
    expect(lender.letGone).toBe(2);
    // A taker in another state: the owner surrenders (captures), and the taker restores its own state.
    const third = new Lease("c1", "login", backendOn(socket), false, null, lender);
    broker.release(third);
    expect(await broker.obtain("c1", taker(false), "the compute")).toEqual({ kind: "lease", lease: third });
    expect({ letGone: lender.letGone, asked: lender.asked }).toEqual({ letGone: 2, asked: 1 });
    // An owner whose state is not known without asking the compute is never handed over directly.
    const unknown = { asked: 0, surrender: async () => (unknown.asked++, true), visibleNow: () => null, letGoNow: () => undefined };
    const fourth = new Lease("c1", "login", backendOn(socket), false, null, unknown);
    broker.release(fourth);
    expect(await broker.obtain("c1", taker(true), "the compute")).toEqual({ kind: "lease", lease: fourth });
    expect({ takes: takes.length, asked: unknown.asked }).toEqual({ takes: 2, asked: 1 });
  });

  it("hands a connection released later to a waiting session of the same login", async () => {
    const broker = new ConnectionBroker({ limit: 1, queueTimeoutMs: 1000 });
    const socket = opened(broker);
    const waiting = broker.obtain("c1", { key: "login", needsNoDatabase: false }, "the compute");
    const lease = new Lease("c1", "login", backendOn(socket), false, null, owner(true));
    broker.release(lease);
    await expect(waiting).resolves.toEqual({ kind: "lease", lease });
  });

  it("keeps connections whose owners cannot surrender them, and a wait that runs out gets 1040 saying what to do", async () => {
    const broker = new ConnectionBroker({ limit: 2, queueTimeoutMs: 200 });
    const pinned = [0, 1].map(() => new Lease("c1", "login", backendOn(opened(broker)), false, null, owner(false)));
    for (const lease of pinned) broker.release(lease);
    const error = await broker.obtain("c1", { key: "login", needsNoDatabase: false }, "the compute of project 'shop'").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 1040, sqlState: "08004" });
    expect((error as Error).message).toContain("the compute of project 'shop' is at its limit of 2 server connections");
    expect((error as Error).message).toContain("larger compute size");
    expect(await broker.reclaim(pinned[0]!)).toBe("mine"); // its owner still has it
  });

  it("never gives a session without a database a connection that has one: it closes that one for room", async () => {
    const broker = new ConnectionBroker({ limit: 1, queueTimeoutMs: 1000 });
    const socket = opened(broker);
    broker.release(new Lease("c1", "login", backendOn(socket), true, "main", owner(true)));
    await expect(broker.obtain("c1", { key: "login", needsNoDatabase: true }, "the compute")).resolves.toEqual({ kind: "room" });
    expect(socket.destroyed).toBe(true);
  });

  it("reports the pool as it changes, and a taker never gets a released connection whose socket closed", async () => {
    const reports: PoolSnapshot[] = [];
    const waits: string[] = [];
    const broker = new ConnectionBroker({ limit: 3, queueTimeoutMs: 100, report: (_, s) => reports.push(s), waited: (_, outcome) => waits.push(outcome) });
    const socket = opened(broker);
    const lender = owner(true);
    const lease = new Lease("c1", "login", backendOn(socket), false, null, lender);
    broker.release(lease);
    expect(broker.snapshot("c1")).toMatchObject({ serverInUse: 0, serverIdle: 1, serverLimit: 3, queued: 0 });
    socket.destroy();
    opened(broker);
    opened(broker);
    opened(broker);
    await broker.obtain("c1", { key: "login", needsNoDatabase: false }, "the compute").catch(() => undefined);
    expect(await broker.reclaim(lease)).toBe("gone");
    expect(waits).toEqual(["timeout"]);
    await new Promise((r) => setTimeout(r, 150));
    expect(reports.at(-1)).toMatchObject({ serverInUse: 3, serverIdle: 0, queued: 0, waits: 1, timeouts: 1 });
  });

  it("gives a connection back to its owner whose surrender fails while the owner's next command waits for it", async () => {
    // The owner's surrender settles after a capture query (here: later), and fails (its state cannot be
    // restored elsewhere); meanwhile the owner's next command waits for the outcome. The connection is the
    // owner's again: the command goes on it (once lost here: the command never got a reply).
    const broker = new ConnectionBroker({ limit: 1, queueTimeoutMs: 100 });
    const socket = opened(broker);
    let refuse!: () => void;
    const lender: Lender = { surrender: () => new Promise<boolean>((resolve) => (refuse = () => resolve(false))), visibleNow: () => null, letGoNow: () => undefined };
    const lease = new Lease("c1", "login", backendOn(socket), false, null, lender);
    broker.release(lease);
    const taker = broker.obtain("c1", { key: "login", needsNoDatabase: false }, "the compute").catch((e: unknown) => e);
    const back = broker.reclaim(lease);
    refuse();
    expect(await back).toBe("mine");
    expect(await taker).toMatchObject({ code: 1040 }); // the taker waited, and nothing else was released
    expect(socket.destroyed).toBe(false);
  });

  it("counts client sessions per compute against their own, larger limit", () => {
    const broker = new ConnectionBroker({ limit: 1, clientLimit: 2, queueTimeoutMs: 100 });
    expect([broker.admitClient("c1"), broker.admitClient("c1"), broker.admitClient("c1")]).toEqual([true, true, false]);
    broker.clientLeft("c1");
    expect(broker.admitClient("c1")).toBe(true);
  });
});

describe("ConnectionBroker across logins", () => {
  it("closes another login's released connection to make room rather than let one login starve another", async () => {
    const broker = new ConnectionBroker({ limit: 1, queueTimeoutMs: 1000 });
    const socket = opened(broker);
    const lender = owner(true);
    broker.release(new Lease("c1", "role a", backendOn(socket), false, null, lender));
    await expect(broker.obtain("c1", { key: "role b", needsNoDatabase: false }, "the compute")).resolves.toEqual({ kind: "room" });
    expect(lender.asked).toBe(1);
    expect(socket.destroyed).toBe(true);
  });
});

describe("ConnectionBroker with waiters another login's connection cannot serve", () => {
  it("closes a connection released later to make room for them", async () => {
    const broker = new ConnectionBroker({ limit: 1, queueTimeoutMs: 1000 });
    const socket = opened(broker);
    const waiting = broker.obtain("c1", { key: "login", needsNoDatabase: true }, "the compute");
    const lender = owner(true);
    broker.release(new Lease("c1", "login", backendOn(socket), true, "main", lender));
    await expect(waiting).resolves.toEqual({ kind: "room" });
    expect(lender.asked).toBe(1);
    expect(socket.destroyed).toBe(true);
  });
});
