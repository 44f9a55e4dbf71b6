import crypto from "node:crypto";
import pg from "pg";
import { z } from "zod";
import { logger } from "../logger";
import { PendingAnswers } from "./pending-answers";

// How a proxy process asks another proxy instance about one of its sessions (a KILL for a connection id
// of the other's slot), through what all instances already share: PostgreSQL's LISTEN/NOTIFY. Each process
// keeps one connection of its own that
//   - holds a session advisory lock on its slot (LOCK_CLASS, slot): PostgreSQL releases it the moment the
//     connection ends, so "someone holds the lock" means exactly "the owner is there to answer", and a
//     crashed owner is known gone at once (its heartbeat would look alive for another 10 s);
//   - listens on its slot's channel (`msl_kill_<slot>`) for questions, and answers each at once on the
//     asker's reply channel;
//   - listens on a reply channel of its own (random per process) for the answers to its questions.
// A question is one statement: NOTIFY the slot's channel only if its lock is held. No row means no owner,
// and the KILL gets 1094 at once; an owner that holds the lock but does not answer within the deadline
// gets the same 1094, later.

/** Whose sessions a KILL may reach: the asker's project and compute (the owner checks), and what of them. */
export interface KillScope {
  projectId: string;
  computeId: string;
  /** KILL QUERY (a parked session runs nothing: left alone); absent or false: KILL [CONNECTION]. */
  queryOnly?: boolean;
}

/** The owner's side: the compute thread id of its session `id` in `scope`, KILLED_BY_OWNER (constants.ts), or null. */
export type AnswerKill = (id: number, scope: KillScope) => number | null;

/** The advisory-lock class of proxy slots ("MSLK"); the slot is the second key. */
export const OWNER_LOCK_CLASS = 0x4d534c4b;
/** How long an asker waits for a live owner's answer. */
const ANSWER_TIMEOUT_MS = 2_000;
/** Reconnecting, or trying again for a slot lock someone else still holds. */
const RETRY_MS = 1_000;

const askChannel = (slot: number) => `msl_kill_${slot}`;

const Question = z.object({
  a: z.number().int(),
  r: z.string().regex(/^msl_kill_reply_[0-9a-f]{16}$/),
  i: z.number().int().nonnegative(),
  p: z.string().max(200),
  c: z.string().max(200),
  /** KILL QUERY (absent from proxies that predate parked sessions: a KILL CONNECTION). */
  q: z.boolean().optional(),
});
const Answer = z.object({ a: z.number().int(), t: z.number().int().nonnegative().nullable() });

export interface OwnerChannelOptions {
  connectionString: string;
  answer: AnswerKill;
  timeoutMs?: number;
}

export class OwnerChannel {
  private readonly connectionString: string;
  private readonly answerKill: AnswerKill;
  private readonly replyChannel = `msl_kill_reply_${crypto.randomBytes(8).toString("hex")}`;
  private readonly pending: PendingAnswers<number | null>;
  private client: pg.Client | null = null;
  /** The slot to own (set before or after connecting), and whether this connection holds its lock. */
  private slot: number | null = null;
  private claimed: number | null = null;
  /** Connecting and claiming run one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The slot whose lock was last found held elsewhere (logged once, not every retry). */
  private contested: number | null = null;

  constructor(options: OwnerChannelOptions) {
    this.connectionString = options.connectionString;
    this.answerKill = options.answer;
    this.pending = new PendingAnswers<number | null>(options.timeoutMs ?? ANSWER_TIMEOUT_MS, null);
  }

  /** Connect, listen and claim the slot if known. Never throws: a database that is down is retried. */
  start(): Promise<void> {
    return this.enqueue(() => this.connect());
  }

  /** Own `slot` from now on (given at registration, and again if it changes). */
  setSlot(slot: number): Promise<void> {
    this.slot = slot;
    return this.enqueue(() => this.claim());
  }

  /** Whether this process answers for its slot now (connected and holding the slot's lock). */
  get ready(): boolean {
    return this.client !== null && this.claimed !== null && this.claimed === this.slot;
  }

  /**
   * Ask the owner of `slot` for its session `id` in `scope`: the compute thread id, or null when the owner
   * is gone (at once), says no, or does not answer in time.
   */
  async ask(slot: number, id: number, scope: KillScope): Promise<number | null> {
    const client = this.client;
    if (!client) return null; // no connection: no answer could reach us
    const { id: question, answer } = this.pending.open();
    const payload = JSON.stringify({ a: question, r: this.replyChannel, i: id, p: scope.projectId, c: scope.computeId, q: scope.queryOnly === true });
    try {
      const sent = await client.query(
        `SELECT pg_notify($1, $2) FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND objsubid = 2
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND classid = $3::int::oid AND objid = $4::int::oid
         LIMIT 1`,
        [askChannel(slot), payload, OWNER_LOCK_CLASS, slot],
      );
      if (sent.rowCount === 0) this.pending.settle(question, null); // nobody holds the slot: gone
    } catch (error) {
      logger.warn({ err: String(error) }, "proxy: could not ask another proxy about a KILL");
      this.pending.settle(question, null);
    }
    return answer;
  }

  /**
   * Release the slot and close the connection. The lock is released explicitly first: a closed connection
   * frees it only once its server process has exited, a moment later, and until then askers would still
   * find an owner and wait for an answer that never comes.
   */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pending.settleAll(null);
    return this.enqueue(async () => {
      const client = this.client;
      this.client = null;
      this.claimed = null;
      await client?.query("SELECT pg_advisory_unlock_all()").catch(() => undefined);
      await client?.end().catch(() => undefined);
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step).catch((error: unknown) => {
      logger.error({ err: String(error) }, "proxy: KILL channel: unexpected error");
    });
    this.queue = next;
    return next;
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.enqueue(() => (this.client ? this.claim() : this.connect()));
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.client) return;
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: "msl-proxy-kill",
      // A database that does not answer must not hold up a proxy's start, nor a KILL past its deadline.
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
    });
    client.on("notification", (message) => this.onNotification(client, message));
    // A lost connection lost the lock and the LISTENs with it: questions waiting for answers get none.
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      this.claimed = null;
      this.pending.settleAll(null);
      if (!this.stopped) logger.warn({ err: error ? String(error) : "closed" }, "proxy: KILL channel lost its database connection; reconnecting");
      this.retryLater();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN "${this.replyChannel}"`);
    } catch (error) {
      logger.warn({ err: String(error) }, "proxy: KILL channel could not connect; retrying");
      await client.end().catch(() => undefined);
      this.retryLater();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    await this.claim();
  }

  /** Hold the lock and listen for the slot to own, giving up a previous one. */
  private async claim(): Promise<void> {
    const client = this.client;
    if (!client || this.slot === null || this.claimed === this.slot) return;
    const slot = this.slot;
    try {
      if (this.claimed !== null) {
        await client.query(`UNLISTEN "${askChannel(this.claimed)}"`);
        await client.query("SELECT pg_advisory_unlock($1::int, $2::int)", [OWNER_LOCK_CLASS, this.claimed]);
        this.claimed = null;
      }
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::int, $2::int) AS locked", [OWNER_LOCK_CLASS, slot]);
      if (!rows[0]?.locked) {
        // Still held by the slot's previous process (pruned but not yet gone): try again shortly.
        if (this.contested !== slot) logger.warn({ slot }, "proxy: KILL channel: the slot's lock is still held elsewhere; retrying");
        this.contested = slot;
        this.retryLater();
        return;
      }
      await client.query(`LISTEN "${askChannel(slot)}"`);
      this.claimed = slot;
      this.contested = null;
    } catch (error) {
      logger.warn({ err: String(error), slot }, "proxy: KILL channel could not claim its slot; retrying");
      this.retryLater();
    }
  }

  private onNotification(client: pg.Client, message: pg.Notification): void {
    let payload: unknown;
    try {
      payload = JSON.parse(message.payload ?? "");
    } catch {
      return;
    }
    if (message.channel === this.replyChannel) {
      const answer = Answer.safeParse(payload);
      if (answer.success) this.pending.settle(answer.data.a, answer.data.t);
      return;
    }
    if (this.claimed === null || message.channel !== askChannel(this.claimed)) return;
    const question = Question.safeParse(payload);
    if (!question.success) return;
    const { a, r, i, p, c, q } = question.data;
    const threadId = this.answerKill(i, { projectId: p, computeId: c, queryOnly: q === true });
    client.query("SELECT pg_notify($1, $2)", [r, JSON.stringify({ a, t: threadId })]).catch((error: unknown) => {
      logger.warn({ err: String(error) }, "proxy: could not answer another proxy's KILL question");
    });
  }
}
