import crypto from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { OWNER_LOCK_CLASS, OwnerChannel, type KillScope } from "./owner-channel";

// Proxy processes ask each other about their sessions through PostgreSQL: the owner of a slot answers from
// what it holds, a slot nobody holds is answered at once, and an owner that stops or loses its connection
// is gone at once too.

const channels: OwnerChannel[] = [];
afterAll(async () => {
  await Promise.all(channels.map((c) => c.stop()));
});

const picked = new Set<number>();
/** A slot no proxy of the product holds (nor any channel of this file). */
async function freeSlot(): Promise<number> {
  const client = new pg.Client({ connectionString: inject("databaseUrl") });
  await client.connect();
  try {
    const { rows } = await client.query<{ slot: number }>(
      `SELECT "slot" FROM "ProxyInstance" WHERE "slot" IS NOT NULL
       UNION SELECT objid::text::int FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int::oid AND objsubid = 2`,
      [OWNER_LOCK_CLASS],
    );
    const taken = new Set([...rows.map((r) => Number(r.slot)), ...picked]);
    for (;;) {
      const slot = 1 + crypto.randomInt(2046);
      if (taken.has(slot)) continue;
      picked.add(slot);
      return slot;
    }
  } finally {
    await client.end();
  }
}

function channel(answer: (id: number, scope: KillScope) => number | null = () => null, timeoutMs?: number): OwnerChannel {
  const c = new OwnerChannel({ connectionString: inject("databaseUrl"), answer, timeoutMs });
  channels.push(c);
  return c;
}

/**
 * An asker whose deadline is ten minutes: an answer that comes at all within a test came from the
 * owner's side (its answer, or the missing lock), never from waiting the deadline out.
 */
function patientAsker(): OwnerChannel {
  return channel(undefined, 10 * 60_000);
}

const scope = { projectId: "p1", computeId: "c1" };

describe("OwnerChannel", () => {
  it("asks a slot's owner and gets its answer, which it gives only for the asker's scope", async () => {
    const slot = await freeSlot();
    const sessions = new Map([[slot * 2 ** 20 + 1, { ...scope, threadId: 77 }]]);
    const owner = channel((id, s) => {
      const session = sessions.get(id);
      return session && session.projectId === s.projectId && session.computeId === s.computeId ? session.threadId : null;
    });
    await owner.start();
    await owner.setSlot(slot);
    expect(owner.ready).toBe(true);
    const asker = channel();
    await asker.start();
    await asker.setSlot(await freeSlot());
    expect(await asker.ask(slot, slot * 2 ** 20 + 1, scope)).toBe(77);
    expect(await asker.ask(slot, slot * 2 ** 20 + 1, { projectId: "other", computeId: "c1" })).toBeNull();
    expect(await asker.ask(slot, slot * 2 ** 20 + 2, scope)).toBeNull();
    // Many at once, each matched to its own answer.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => asker.ask(slot, slot * 2 ** 20 + 1 + (i % 2), scope)));
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 77 : null)));
  });

  it("answers null at once for a slot nobody holds, and for an owner that stopped or whose connection died", async () => {
    const asker = patientAsker();
    await asker.start();
    expect(await asker.ask(await freeSlot(), 5, scope)).toBeNull();

    const slot = await freeSlot();
    const stopping = channel(() => 1);
    await stopping.start();
    await stopping.setSlot(slot);
    expect(await asker.ask(slot, slot * 2 ** 20 + 1, scope)).toBe(1);
    await stopping.stop();
    expect(await asker.ask(slot, slot * 2 ** 20 + 1, scope)).toBeNull();

    // A crash: the owner's connection ends without a word (terminated by the server here).
    const crashing = channel(() => 2);
    await crashing.start();
    await crashing.setSlot(slot); // the slot's lock was released with the stopped owner's connection
    expect(await asker.ask(slot, slot * 2 ** 20 + 1, scope)).toBe(2);
    const admin = new pg.Client({ connectionString: inject("databaseUrl") });
    await admin.connect();
    const lockHeld = async () =>
      (
        await admin.query(
          `SELECT pid FROM pg_locks
           WHERE locktype = 'advisory' AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2 AND granted`,
          [OWNER_LOCK_CLASS, slot],
        )
      ).rows.map((r: { pid: number }) => r.pid);
    try {
      const [pid] = await lockHeld();
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      // Terminating takes effect asynchronously; once the backend is gone, so is its lock.
      for (let i = 0; i < 100 && (await lockHeld()).includes(pid!); i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await admin.end();
    }
    expect(await asker.ask(slot, slot * 2 ** 20 + 1, scope)).toBeNull(); // at once: the deadline is ten minutes
    // The owner connects again and answers for its slot again.
    for (let i = 0; i < 100 && !crashing.ready; i++) await new Promise((r) => setTimeout(r, 50));
    expect(crashing.ready).toBe(true);
    expect(await asker.ask(slot, slot * 2 ** 20 + 1, scope)).toBe(2);
  });

  it("gives up its old slot when given another", async () => {
    const [a, b] = [await freeSlot(), await freeSlot()];
    const owner = channel(() => 9);
    await owner.start();
    await owner.setSlot(a);
    await owner.setSlot(b);
    const asker = channel();
    await asker.start();
    expect(await asker.ask(a, a * 2 ** 20 + 1, scope)).toBeNull();
    expect(await asker.ask(b, b * 2 ** 20 + 1, scope)).toBe(9);
  });
});
