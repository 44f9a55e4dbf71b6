// The primary's ledger of a compute's server connections across the proxy's workers (issue 15). Each
// worker starts with an equal share of the limit for every compute (connection-broker.ts: its allowance).
// Clients are dealt to workers round robin, not by compute, so one worker can have more of a compute's
// sessions than its share serves while another has room to spare: without this, a session there waited and
// was refused although the compute had room. A worker whose sessions wait borrows: from room given back to
// the ledger, or else every other worker is asked to lend one it does not use (it decides at once, in its
// own process, so the sum of what the workers may hold never exceeds the limit). Room a worker holds beyond
// its share goes back to the ledger once unused.

export type CreditsToWorker = { type: "msl:pool-grant"; computeId: string } | { type: "msl:pool-lend"; computeId: string };
export type CreditsFromWorker =
  | { type: "msl:pool-borrow"; computeId: string }
  | { type: "msl:pool-lent"; computeId: string; count: number }
  | { type: "msl:pool-give-back"; computeId: string; count: number };

/** While a worker waits for room, the others are asked again this often (room frees as their clients leave). */
const ASK_AGAIN_MS = 50;

interface ComputeLedger {
  /** Room no worker holds. Below 0 after a worker died while others held room it had lent them (owed). */
  free: number;
  /** What each worker may hold beyond or below its share (absent: its share). */
  held: Map<number, number>;
  /** Workers waiting for room, first come first served. */
  waiting: number[];
}

export class ClusterCreditLedger {
  private readonly computes = new Map<string, ComputeLedger>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly share: number,
    private readonly workers: () => number[],
    private readonly send: (worker: number, message: CreditsToWorker) => void,
  ) {}

  receive(worker: number, message: CreditsFromWorker): void {
    const ledger = this.ledger(message.computeId);
    switch (message.type) {
      case "msl:pool-borrow":
        if (!ledger.waiting.includes(worker)) ledger.waiting.push(worker);
        if (ledger.free <= 0) this.askToLend(message.computeId);
        break;
      case "msl:pool-lent":
      case "msl:pool-give-back":
        ledger.held.set(worker, this.heldBy(ledger, worker) - message.count);
        ledger.free += message.count;
        break;
    }
    this.serve(message.computeId, ledger);
  }

  /**
   * A worker exited: what it held is free again, and its replacement starts from a share as every worker
   * does. Room it had lent that others still hold is owed: given back room pays it first.
   */
  workerGone(worker: number): void {
    for (const [computeId, ledger] of this.computes) {
      ledger.free += this.heldBy(ledger, worker) - this.share;
      ledger.held.delete(worker);
      ledger.waiting = ledger.waiting.filter((w) => w !== worker);
      this.serve(computeId, ledger);
    }
  }

  /** What `worker` may hold of the compute now, as the ledger knows it (for tests and diagnostics). */
  holding(computeId: string, worker: number): number {
    return this.heldBy(this.ledger(computeId), worker);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private heldBy(ledger: ComputeLedger, worker: number): number {
    return ledger.held.get(worker) ?? this.share;
  }

  private ledger(computeId: string): ComputeLedger {
    let ledger = this.computes.get(computeId);
    if (!ledger) {
      ledger = { free: 0, held: new Map(), waiting: [] };
      this.computes.set(computeId, ledger);
    }
    return ledger;
  }

  private serve(computeId: string, ledger: ComputeLedger): void {
    while (ledger.free > 0 && ledger.waiting.length > 0) {
      const worker = ledger.waiting.shift()!;
      ledger.free--;
      ledger.held.set(worker, this.heldBy(ledger, worker) + 1);
      this.send(worker, { type: "msl:pool-grant", computeId });
    }
    // Forget computes back at their shares with nobody waiting (a ledger per compute ever seen would grow).
    if (ledger.waiting.length === 0 && ledger.free === 0 && [...ledger.held.values()].every((n) => n === this.share)) this.computes.delete(computeId);
    this.scheduleAsk();
  }

  /**
   * Every worker is asked, those that asked to borrow too: a worker's request stands until granted, also
   * after its own sessions stopped waiting. Asking only the others, two workers that had both asked while
   * both were full were never asked again, and the next session of one waited out its queue while the other
   * had room to spare. A worker with sessions waiting, or without room, lends nothing (broker.lend).
   */
  private askToLend(computeId: string): void {
    for (const worker of this.workers()) this.send(worker, { type: "msl:pool-lend", computeId });
  }

  private scheduleAsk(): void {
    if (this.timer) return;
    const waiting = [...this.computes].filter(([, ledger]) => ledger.waiting.length > 0);
    if (waiting.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      for (const [computeId, ledger] of this.computes) if (ledger.waiting.length > 0) this.askToLend(computeId);
      this.scheduleAsk();
    }, ASK_AGAIN_MS);
    this.timer.unref();
  }
}
