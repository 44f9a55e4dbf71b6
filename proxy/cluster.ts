import cluster, { type Worker } from "node:cluster";
import type http from "node:http";
import { AggregatorRegistry } from "prom-client";
import { config } from "@/server/config";
import { logger } from "@/server/logger";
import { register, startMetricsServer } from "./metrics";
import { SessionRegistry } from "./sessions";
import { AskRelay, type RelayMessage } from "./ask-relay";
import { SiblingAsks, type SiblingQuestion } from "./sibling-asks";
import { serverConnectionLimit, startProxy, type RunningProxy } from "./start-proxy";
import { ClusterCreditLedger, type CreditsFromWorker, type CreditsToWorker } from "./cluster-credits";
import { PreAuthGate } from "./preauth-gate";
import { AuthThrottle, throttleMaxDelayMs } from "./throttle";

// The proxy on every core (PROXY_WORKERS): a primary process forks one worker per core; the workers share
// the listening port (the primary hands accepted connections round-robin) and each runs a whole proxy,
// including its own activity reports (each is a proxy instance of its own to the control plane).
// Node runs JavaScript on one thread per process, so one process would cap the proxy at one core, and
// under load the kernel shares the CPU by thread: HAProxy, with a thread per core, gets that many shares.
//
// What the workers must agree on travels through the primary: KILLs (a KILL arrives on a new connection,
// which may land on another worker than the session it names; each worker is a proxy instance with its own
// slot of connection ids, so the worker holding the id's slot is asked, through the primary, which knows
// the slots: proxy/ask-relay.ts), failed logins (so guesses spread over workers are slowed down alike),
// and unauthenticated connections per address (so the pre-auth cap holds for the whole proxy), and a
// compute's server connections (a worker whose sessions wait borrows room another worker does not use:
// proxy/cluster-credits.ts). The primary
// serves the metrics of all workers summed, restarts a worker that dies, and on stop asks every worker to
// drain.

type ToPrimary =
  | { type: "msl:ready" }
  | { type: "msl:listening"; port: number }
  | { type: "msl:slot"; slot: number }
  | ({ type: "msl:ask" } & SiblingQuestion)
  | { type: "msl:answer"; ask: number; threadId: number | null }
  | { type: "msl:auth-failure"; address: string; at: number }
  | { type: "msl:preauth"; address: string; delta: number }
  | CreditsFromWorker;

type ToWorker =
  | RelayMessage
  | CreditsToWorker
  | { type: "msl:auth-failure"; address: string; at: number }
  | { type: "msl:preauth"; address: string; delta: number }
  | { type: "msl:shutdown" };

const RESTART_DELAY_MS = 1000;
/** How often a worker tells the others the net change of its unauthenticated connections per address. */
const PREAUTH_PUBLISH_MS = 10;

export interface ClusterOptions {
  workers: number;
  metricsPort: number;
  /** How long workers let sessions drain on stop. */
  drainMs: number;
}

export interface RunningCluster {
  port: number;
  metricsPort: number;
  stop(): Promise<void>;
}

/** Fork the workers; resolves when all of them listen (rejects if one dies before it does). */
export async function runPrimary(o: ClusterOptions): Promise<RunningCluster> {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const aggregator = new AggregatorRegistry();
  const workers = new Map<number, Worker>();
  // Each worker's unauthenticated connections per address: what to take back when a worker dies, and
  // what to brief a new worker with.
  const preAuth = new Map<number, Map<string, number>>();
  let stopping = false;
  let started = false;
  let onStartFailure: (error: Error) => void = () => undefined;
  const listening = new Map<number, number>();
  let onListening: () => void = () => undefined;

  const sendTo = (worker: Worker, message: ToWorker) => {
    if (worker.isConnected()) worker.send(message);
  };
  const broadcast = (fromIndex: number, message: ToWorker) => {
    for (const [index, worker] of workers) if (index !== fromIndex) sendTo(worker, message);
  };
  const credits = new ClusterCreditLedger(
    serverConnectionLimit(config().PROXY_SERVER_CONNECTIONS_PER_COMPUTE, o.workers),
    () => [...workers.keys()],
    (index, message) => {
      const worker = workers.get(index);
      if (worker) sendTo(worker, message);
    },
  );
  const relay = new AskRelay((index, message) => {
    const worker = workers.get(index);
    if (worker) sendTo(worker, message);
  });

  const fork = (index: number) => {
    const worker = cluster.fork({ PROXY_WORKER_INDEX: String(index), PROXY_WORKER_COUNT: String(o.workers) });
    workers.set(index, worker);
    worker.on("message", (message: ToPrimary) => {
      switch (message.type) {
        case "msl:ready":
          // Brief it on the other workers' slots and unauthenticated connections.
          relay.brief(index);
          for (const [other, counts] of preAuth) {
            if (other === index) continue;
            for (const [address, delta] of counts) sendTo(worker, { type: "msl:preauth", address, delta });
          }
          break;
        case "msl:listening":
          listening.set(index, message.port);
          onListening();
          break;
        case "msl:slot":
          relay.setSlot(index, message.slot, workers.keys());
          break;
        case "msl:ask":
          relay.ask(index, message);
          break;
        case "msl:answer":
          relay.answer(index, message.ask, message.threadId);
          break;
        case "msl:auth-failure":
          broadcast(index, message);
          break;
        case "msl:pool-borrow":
        case "msl:pool-lent":
        case "msl:pool-give-back":
          credits.receive(index, message);
          break;
        case "msl:preauth": {
          const counts = preAuth.get(index) ?? new Map<string, number>();
          const n = (counts.get(message.address) ?? 0) + message.delta;
          if (n > 0) counts.set(message.address, n);
          else counts.delete(message.address);
          preAuth.set(index, counts);
          broadcast(index, message);
          break;
        }
      }
    });
    worker.on("exit", (code, signal) => {
      workers.delete(index);
      listening.delete(index);
      // Its unauthenticated connections and its sessions went with it: questions for it are answered now.
      for (const [address, n] of preAuth.get(index) ?? []) broadcast(index, { type: "msl:preauth", address, delta: -n });
      preAuth.delete(index);
      relay.dropWorker(index, workers.keys());
      credits.workerGone(index);
      if (stopping) return;
      if (!started) {
        onStartFailure(new Error(`proxy worker ${index} exited while starting (code ${code}, signal ${signal})`));
        return;
      }
      logger.error({ worker: index, code, signal }, "proxy worker died; starting a new one");
      setTimeout(() => {
        if (!stopping) fork(index);
      }, RESTART_DELAY_MS).unref();
    });
  };

  const allListening = new Promise<number>((resolve, reject) => {
    onStartFailure = reject;
    onListening = () => {
      if (listening.size === o.workers) resolve([...listening.values()][0]!);
    };
  });
  for (let index = 0; index < o.workers; index++) fork(index);
  let port: number;
  try {
    port = await allListening;
  } catch (error) {
    stopping = true;
    for (const worker of workers.values()) worker.kill("SIGKILL");
    throw error;
  }
  started = true;

  const metricsServer: http.Server = await startMetricsServer(o.metricsPort, "127.0.0.1", () => aggregator.clusterMetrics());
  const address = metricsServer.address();
  const metricsPort = typeof address === "object" && address ? address.port : o.metricsPort;

  return {
    port,
    metricsPort,
    async stop() {
      stopping = true;
      const exited = [...workers.values()].map((worker) => new Promise<void>((resolve) => {
        if (worker.isDead()) return resolve();
        worker.once("exit", () => resolve());
        // Past the drain limit (plus time to report the last activity) a worker is killed.
        setTimeout(() => worker.kill("SIGKILL"), o.drainMs + 10_000).unref();
        sendTo(worker, { type: "msl:shutdown" });
      }));
      await Promise.all(exited);
      credits.stop();
      await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    },
  };
}

/**
 * In a worker: run a proxy that answers the other workers' questions about its sessions, shares failed
 * logins and unauthenticated connections, and stops when the primary says.
 */
export async function runWorker(onShutdown: (proxy: RunningProxy) => Promise<void>): Promise<RunningProxy> {
  const send = (message: ToPrimary) => {
    if (process.connected) process.send?.(message);
  };
  const registry = new SessionRegistry();
  const siblings = new SiblingAsks((question) => send({ type: "msl:ask", ...question }));
  const throttle = new AuthThrottle({
    maxDelayMs: throttleMaxDelayMs(config().PROXY_HANDSHAKE_TIMEOUT_MS),
    publish: (address, at) => send({ type: "msl:auth-failure", address, at }),
  });
  const cfg = config();
  const preAuth = new PreAuthGate({
    perAddress: cfg.PROXY_PREAUTH_PER_ADDRESS,
    max: cfg.PROXY_PREAUTH_MAX,
    publish: (address, delta) => send({ type: "msl:preauth", address, delta }),
    publishAfterMs: PREAUTH_PUBLISH_MS,
  });
  // Answer the primary's metric requests with this worker's registry.
  AggregatorRegistry.setRegistries(register);
  new AggregatorRegistry();

  let proxy: RunningProxy | null = null;
  let shutdownRequested = false;
  process.on("message", (message: ToWorker) => {
    if (message.type === "msl:slots") siblings.setSlots(message.slots);
    else if (message.type === "msl:pool-grant") {
      if (proxy) proxy.broker.granted(message.computeId);
      else send({ type: "msl:pool-give-back", computeId: message.computeId, count: 1 });
    } else if (message.type === "msl:pool-lend") send({ type: "msl:pool-lent", computeId: message.computeId, count: proxy?.broker.lend(message.computeId) ?? 0 });
    else if (message.type === "msl:ask") send({ type: "msl:answer", ask: message.ask, threadId: registry.answer(message.id, message.scope) });
    else if (message.type === "msl:answer") siblings.answered(message.ask, message.threadId);
    else if (message.type === "msl:auth-failure") throttle.applyRemoteFailure(message.address, message.at);
    else if (message.type === "msl:preauth") preAuth.applyRemote(message.address, message.delta);
    else if (message.type === "msl:shutdown") {
      shutdownRequested = true;
      if (proxy) void onShutdown(proxy);
    }
  });
  send({ type: "msl:ready" });
  proxy = await startProxy({
    metricsPort: null,
    registry,
    throttle,
    preAuth,
    siblings,
    onSlot: (slot) => send({ type: "msl:slot", slot }),
    credits: {
      borrow: (computeId) => send({ type: "msl:pool-borrow", computeId }),
      giveBack: (computeId, count) => send({ type: "msl:pool-give-back", computeId, count }),
    },
  });
  send({ type: "msl:listening", port: proxy.port });
  if (shutdownRequested) void onShutdown(proxy);
  return proxy;
}
