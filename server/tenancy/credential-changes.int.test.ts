import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db, type Prisma } from "../db";
import { listen, type Listener } from "../db/listen";
import { issueApiKey } from "../api-keys/api-keys";
import { CREDENTIALS_CHANGED_CHANNEL } from "./verified-callers";

// What tells every app replica to drop the API-key callers it caches: PostgreSQL triggers that NOTIFY when
// a change could take rights away (a key revoked, a membership changed or removed, a user or an
// organization deleted), and stay quiet for what cannot (a key's lastUsedAt, written as keys are used).
// Each change runs in a transaction whose id the test knows; a notification carries the id of the
// transaction that sent it, and notifications arrive in commit order, so "the next change was heard and
// this one was not before it" says this one sent none, whatever other tests do meanwhile.

const heard: string[] = [];
const waiting = new Map<string, () => void>();
let listener: Listener;
let connected: Promise<void>;

beforeAll(async () => {
  let onConnected: () => void;
  connected = new Promise((r) => (onConnected = r));
  listener = listen(CREDENTIALS_CHANGED_CHANNEL, {
    onNotify: (txid) => {
      heard.push(txid);
      waiting.get(txid)?.();
    },
    onGap: () => onConnected(),
  });
  await connected;
});

afterAll(async () => {
  await listener.stop();
});

/** Run `change` in a transaction; returns its id once committed. */
async function inTransaction(change: (tx: Prisma.TransactionClient) => Promise<unknown>): Promise<string> {
  return db.$transaction(async (tx) => {
    await change(tx);
    const [{ id }] = await tx.$queryRaw<{ id: string }[]>`SELECT txid_current()::text AS id`;
    return id!;
  });
}

/** Resolves when the notification of transaction `txid` has arrived (at once if it already has). */
function heardFrom(txid: string): Promise<void> {
  if (heard.includes(txid)) return Promise.resolve();
  return new Promise((resolve) => waiting.set(txid, resolve));
}

async function newMemberWithKey() {
  const suffix = crypto.randomBytes(6).toString("hex");
  const organization = await db.organization.create({ data: { slug: `cc-${suffix}`, name: "cc" } });
  const user = await db.user.create({ data: { email: `cc-${suffix}@example.com`, passwordHash: "x" } });
  const membership = await db.membership.create({ data: { userId: user.id, organizationId: organization.id, role: "admin" } });
  const { apiKey } = await issueApiKey({ organizationId: organization.id, name: "cc", role: "admin", createdById: user.id });
  return { organization, user, membership, apiKey };
}

describe("credential change notifications", () => {
  it("are sent for a revoked key, a changed or removed membership, a deleted user or organization, and not for lastUsedAt", async () => {
    const { organization, user, membership, apiKey } = await newMemberWithKey();

    const used = await inTransaction((tx) => tx.apiKey.update({ where: { id: apiKey.id }, data: { lastUsedAt: new Date() } }));
    const demoted = await inTransaction((tx) => tx.membership.update({ where: { id: membership.id }, data: { role: "viewer" } }));
    await heardFrom(demoted);
    expect(heard).not.toContain(used);

    const revoked = await inTransaction((tx) => tx.apiKey.update({ where: { id: apiKey.id }, data: { revokedAt: new Date() } }));
    await heardFrom(revoked);
    const removed = await inTransaction((tx) => tx.membership.delete({ where: { id: membership.id } }));
    await heardFrom(removed);
    const userDeleted = await inTransaction((tx) => tx.user.delete({ where: { id: user.id } }));
    await heardFrom(userDeleted);
    const organizationDeleted = await inTransaction((tx) => tx.organization.delete({ where: { id: organization.id } }));
    await heardFrom(organizationDeleted);
    // One notification per transaction, however many rows and statements it changed.
    for (const txid of [demoted, revoked, removed, userDeleted, organizationDeleted]) expect(heard.filter((t) => t === txid)).toHaveLength(1);
  });
});
