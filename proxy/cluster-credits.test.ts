import type net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterCreditLedger, type CreditsFromWorker, type CreditsToWorker } from "./cluster-credits";
import { ConnectionBroker } from "./connection-broker";
import { FakeSocket } from "./fake-socket.test-support";

// Two workers' brokers and the primary's ledger, their messages passed asynchronously as IPC passes them.


const SHARE = 2;
const ANY = { key: null, needsNoDatabase: false };
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

function cluster(workerCount = 2) {
  const brokers: ConnectionBroker[] = [];
  const sockets: FakeSocket[][] = [];
  const ledger = new ClusterCreditLedger(
    SHARE,
    () => brokers.map((_, i) => i),
    (worker, message: CreditsToWorker) =>
      queueMicrotask(() => {
        const broker = brokers[worker]!;
        if (message.type === "msl:pool-grant") broker.granted(message.computeId);
        else toPrimary(worker, { type: "msl:pool-lent", computeId: message.computeId, count: broker.lend(message.computeId) });
      }),
  );
  const toPrimary = (worker: number, message: CreditsFromWorker) => queueMicrotask(() => ledger.receive(worker, message));
  for (let i = 0; i < workerCount; i++) {
    sockets.push([]);
    brokers.push(
      new ConnectionBroker({
        limit: SHARE,
        queueTimeoutMs: 2000,
        cluster: {
          total: SHARE * workerCount,
          borrow: (computeId) => toPrimary(i, { type: "msl:pool-borrow", computeId }),
          giveBack: (computeId, count) => toPrimary(i, { type: "msl:pool-give-back", computeId, count }),
        },
      }),
    );
  }
  /** A session on worker `i` gets room (at once or after waiting) and opens its server connection. */
  const open = async (i: number) => {
    const got = await brokers[i]!.obtain("c1", ANY, "the compute");
    expect(got.kind).toBe("room");
    const socket = new FakeSocket();
    brokers[i]!.opened("c1", socket as unknown as net.Socket);
    sockets[i]!.push(socket);
    return socket;
  };
  const openCount = () => sockets.flat().filter((s) => !s.destroyed).length;
  return { brokers, ledger, open, openCount };
}

describe("a compute's server connections shared by a cluster's workers", () => {
  let stopLedger: (() => void) | null = null;
  afterEach(() => stopLedger?.());

  it("lets a worker whose sessions wait use room another worker does not, never above the cluster's limit", async () => {
    const c = cluster();
    stopLedger = () => c.ledger.stop();
    await c.open(0);
    await c.open(0);
    // Worker 0 is at its share; worker 1 has nobody: worker 0's next sessions borrow its room.
    const third = c.open(0);
    const fourth = c.open(0);
    await Promise.all([third, fourth]);
    expect(c.openCount()).toBe(4);
    expect(c.ledger.holding("c1", 0)).toBe(4);
    expect(c.ledger.holding("c1", 1)).toBe(0);
    // The limit across the cluster holds: a fifth waits until one closes (its own worker's or the other's).
    let fifthServed = false;
    const fifth = c.open(1).then(() => (fifthServed = true));
    await tick();
    expect(fifthServed).toBe(false);
    expect(c.openCount()).toBe(4);
    (await third).destroy();
    await fifth;
    expect(c.openCount()).toBe(4);
  });

  it("gives room held beyond a worker's share back once it is unused, for the other worker's sessions", async () => {
    const c = cluster();
    stopLedger = () => c.ledger.stop();
    const mine = [await c.open(0), await c.open(0), await c.open(0)];
    expect(c.ledger.holding("c1", 0)).toBe(3);
    for (const socket of mine) socket.destroy();
    await tick();
    // Back to its share: what it borrowed went back.
    expect(c.ledger.holding("c1", 0)).toBe(SHARE);
    await c.open(1);
    await c.open(1);
    await c.open(1); // borrowed back from the ledger or from worker 0
    expect(c.openCount()).toBe(3);
  });

  it("refuses with the cluster's limit in the message when a wait runs out", async () => {
    const c = cluster();
    stopLedger = () => c.ledger.stop();
    for (let i = 0; i < 4; i++) await c.open(i % 2);
    await expect(c.brokers[0]!.obtain("c1", ANY, "the compute of project 'p'")).rejects.toThrow(/at its limit of 4 server connections/);
  }, 10_000);

  it("lends room to a worker whose sessions wait although both workers asked to borrow while both were full", async () => {
    // Both workers at their share with sessions waiting: each asked the ledger for room, neither could
    // lend. Their waits ended (room freed on their own worker), but the requests stood: a worker that then
    // needed one more connection waited out its queue while the other had room to spare (seen in
    // bench:pooling when a compute was switched from pooled to unpooled: one login in a hundred got 1040).
    const c = cluster();
    stopLedger = () => c.ledger.stop();
    const first = [await c.open(0), await c.open(0)];
    const second = [await c.open(1), await c.open(1)];
    const waits = [c.open(0), c.open(1)];
    await tick();
    first[0]!.destroy();
    second[0]!.destroy();
    await Promise.all(waits);
    for (const socket of second) socket.destroy(); // worker 1 now uses one of its two
    await tick();
    // Worker 0 at its share needs one more: worker 1 has room it does not use.
    await c.open(0);
    expect(c.openCount()).toBe(4);
  }, 10_000);

  it("frees what a dead worker held, and lets its replacement start from a share", async () => {
    const c = cluster(2);
    stopLedger = () => c.ledger.stop();
    await c.open(0);
    await c.open(0);
    await c.open(0); // borrowed from worker 1
    expect([c.ledger.holding("c1", 0), c.ledger.holding("c1", 1)]).toEqual([3, 1]);
    c.ledger.workerGone(0); // its server connections closed with it
    expect(c.ledger.holding("c1", 0)).toBe(SHARE);
    // What it had borrowed is free again: worker 1's sessions get their whole share back.
    await c.open(1);
    await c.open(1);
    expect(c.ledger.holding("c1", 1)).toBe(SHARE);
  });
});
